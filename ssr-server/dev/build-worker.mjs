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
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

// From the repository checkout the build is TypeScript: tsx's loader, registered in this thread.
if (workerData.tsx) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { buildClient } = await import(workerData.buildModule);
/** @type {import('../build/build.ts').ClientBuildCache} */
let cache = {};

// Rollup's cache on disk (`workerData.cacheFile`), so that the first build after a restart
// transforms only what changed since the last run. `cacheKey` names everything else the
// transforms depend on (Atoll's build code, rollup's version, the site's tsconfig and
// package.json files): another key, no cache.
let restored = false;
/** A digest of the files a built script came from (empty when one cannot be read). */
function inputsDigest(inputs) {
  try {
    const hash = createHash('sha256');
    for (const f of inputs) hash.update(f).update('\0').update(readFileSync(f)).update('\0');
    return hash.digest('base64url');
  } catch {
    return '';
  }
}

/** A saved loader or embed script, when the files it was built from are unchanged. */
function script(saved) {
  if (saved === undefined || typeof saved.code !== 'string' || !Array.isArray(saved.inputs)) return undefined;
  const digest = inputsDigest(saved.inputs);
  return digest !== '' && digest === saved.digest ? { code: saved.code, inputs: saved.inputs } : undefined;
}

/** Reads the saved cache before the first build; true when it was used. */
function restore() {
  if (restored || workerData.cacheFile === undefined) return false;
  restored = true;
  try {
    const saved = JSON.parse(readFileSync(workerData.cacheFile, 'utf8'));
    if (saved?.key !== workerData.cacheKey || saved.rollup === undefined) return false;
    cache.rollup = saved.rollup;
    cache.loader = script(saved.loader);
    cache.embed = script(saved.embed);
    return true;
  } catch {
    return false; // none, or unreadable: a cold build
  }
}
let saveTimer;
function save() {
  if (workerData.cacheFile === undefined) return;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    try {
      if (cache.rollup === undefined) return;
      mkdirSync(dirname(workerData.cacheFile), { recursive: true });
      const tmp = `${workerData.cacheFile}.tmp-${process.pid}`;
      const withDigest = (b) => (b === undefined ? undefined : { ...b, digest: inputsDigest(b.inputs) });
      writeFileSync(tmp, JSON.stringify({ key: workerData.cacheKey, rollup: cache.rollup, loader: withDigest(cache.loader), embed: withDigest(cache.embed) }));
      renameSync(tmp, workerData.cacheFile);
    } catch {
      // a cache that cannot be written costs the next start its speed, nothing else
    }
  }, workerData.saveDelayMs ?? 3000);
  saveTimer.unref();
}

const plain = (e) => {
  const out = { message: String(e?.message ?? e) };
  for (const key of ['stack', 'id', 'frame', 'code']) if (typeof e?.[key] === 'string') out[key] = e[key];
  if (e?.loc !== undefined && typeof e.loc === 'object') out.loc = { file: e.loc.file, line: e.loc.line, column: e.loc.column };
  return out;
};

parentPort.on('message', async ({ id, site, fresh }) => {
  try {
    let fromDisk = false;
    if (fresh) {
      // The key was taken at start: what is cached from now on is under other settings.
      cache = {};
      restored = true;
      workerData.cacheFile = undefined;
    } else fromDisk = restore();
    const result = await buildClient({ root: site.root, registry: new Map(site.registry) }, { cache, write: false, minify: false, hashNames: false });
    parentPort.postMessage({ id, ok: true, manifest: result.manifest, files: [...result.files], ms: result.ms, fromDisk });
    save();
  } catch (e) {
    parentPort.postMessage({ id, ok: false, error: plain(e) });
  }
});
