/**
 * The single-request timing client, in a process of its own (see
 * `timeRoundsApart` in measure.ts): `time-client.ts <url> <rounds> <samples>`
 * prints the rounds' result as JSON, with each round's first body only.
 */
import { timeRounds } from './measure.ts';

const [url, rounds, samples] = process.argv.slice(2);
const result = await timeRounds(url!, Number(rounds), Number(samples), 3, 'first');
result.samples = result.samples.filter((s) => s.body !== '');
process.stdout.write(JSON.stringify(result));
