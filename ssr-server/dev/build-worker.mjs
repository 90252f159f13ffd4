/**
 * `atoll dev`'s client builds, in a worker thread: rollup is CPU-bound, and
 * on the main thread it held back the new server generation (the page the
 * browser reloads into). The worker keeps rollup's cache between builds.
 *
 * Messages in: `{ id, site: { root, registry: [[tag, definition], …] }, fresh }`
 * (definitions without their hook functions). Out: `{ id, ok: true, manifest,
 * files: [[name, text], …], ms }` or `{ id, ok: false, error }` with the
 * fields `dev/problems.ts` reads (message, stack, loc, id, frame).
 */
import { parentPort, workerData } from 'node:worker_threads';

// From the repository checkout the build is TypeScript: tsx's loader, registered in this thread.
if (workerData.tsx) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { buildClient } = await import(workerData.buildModule);
/** @type {import('../build/build.ts').ClientBuildCache} */
let cache = {};

const plain = (e) => {
  const out = { message: String(e?.message ?? e) };
  for (const key of ['stack', 'id', 'frame', 'code']) if (typeof e?.[key] === 'string') out[key] = e[key];
  if (e?.loc !== undefined && typeof e.loc === 'object') out.loc = { file: e.loc.file, line: e.loc.line, column: e.loc.column };
  return out;
};

parentPort.on('message', async ({ id, site, fresh }) => {
  try {
    if (fresh) cache = {};
    const result = await buildClient({ root: site.root, registry: new Map(site.registry) }, { cache, write: false, minify: false, hashNames: false });
    parentPort.postMessage({ id, ok: true, manifest: result.manifest, files: [...result.files], ms: result.ms });
  } catch (e) {
    parentPort.postMessage({ id, ok: false, error: plain(e) });
  }
});
