/**
 * The interleaving timing client of `bench:ab`, in a process of its own (see
 * `timeInterleaved` in measure.ts): `interleave-client.ts <cycles> <warm>
 * <url>…` prints each URL's timings in cycle order, as JSON.
 */
import { timeInterleaved } from './measure.ts';

const [cycles, warm, ...urls] = process.argv.slice(2);
process.stdout.write(JSON.stringify(await timeInterleaved(urls, Number(cycles), Number(warm))));
