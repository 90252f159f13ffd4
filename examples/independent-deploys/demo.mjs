#!/usr/bin/env node
/**
 * The whole example in one command: the CDN, release v1 of team Greeting's
 * element, the host site (`atoll serve`), then a load of a few clients during
 * which v2 and v3 are deployed. Prints what the load saw: pages per release,
 * failed requests (none expected), how long each new release took to show
 * after its import map was written, and that browser modules always matched
 * the server's HTML. Exits 1 if anything of that did not hold.
 *
 *   node examples/independent-deploys/demo.mjs
 *
 * Environment: CDN_PORT (4400), PORT (4401). The CDN
 * folder is .atoll/demo-cdn/ here; it, the built releases and the server's
 * module cache are emptied first.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCdn } from './cdn.mjs';
import { formatCounts, formatSummary, startLoad } from './load.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const atoll = join(here, '..', '..', 'bin', 'atoll.mjs');
const cdnPort = Number(process.env.CDN_PORT ?? 4400);
const port = Number(process.env.PORT ?? 4401);
const cdnDir = join(here, '.atoll', 'demo-cdn');
const children = new Set();

function run(name, args, env = {}, onLine = () => {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        onLine(line);
        // The server's JSON log: only warnings and errors, and what the deploys runtime says.
        if (name === 'serve' && line.startsWith('{') && !/"level":"(warn|error)"|deploy|generation|swap/i.test(line)) continue;
        console.log(`[${name}] ${line}`);
      }
    });
  }
  const exited = new Promise((r) => child.on('exit', (code, signal) => { children.delete(child); r(code ?? signal); }));
  return { child, exited };
}

const deploy = async (release) => {
  let liveAt;
  const { exited } = run(`deploy ${release}`, [join(here, 'deploy.mjs'), release], { CDN_DIR: cdnDir }, (line) => {
    if (/^(added|set) <team-greeting>/.test(line)) liveAt = Date.now();
  });
  const code = await exited;
  if (code !== 0 || liveAt === undefined) throw new Error(`deploy ${release} failed (${code})`);
  return liveAt;
};

let failed = false;
// A fresh start: no versions on the CDN, no releases built, no server modules cached from earlier runs.
for (const dir of [cdnDir, join(here, '.atoll', 'releases'), join(here, '.atoll', 'deploys')]) rmSync(dir, { recursive: true, force: true });
const cdn = await startCdn({ dir: cdnDir, port: cdnPort });
console.log(`CDN: ${cdn.url} serving ${cdn.dir}`);
try {
  await deploy('v1');
  const serve = run('serve', [atoll, 'serve', '--root', here, '--port', String(port)], { CDN_URL: cdn.url });
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const health = await fetch(`${url}_atoll/health`).then((r) => r.json(), () => ({}));
    if (health.status === 'ready') break;
    if (Date.now() > deadline || serve.child.exitCode !== null) throw new Error('the site did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`site: ${url} — a load of 4 clients, with two deploys of <team-greeting> meanwhile`);
  const stopLoad = new AbortController();
  const load = startLoad({ url, seconds: 120, clients: 4, signal: stopLoad.signal, onTick: (s, ms) => console.log(`[load ${(ms / 1000).toFixed(0).padStart(2)} s] ${formatCounts(s)}`) });
  let loadDone = false;
  load.done.then(() => (loadDone = true), () => (loadDone = true));
  /** Milliseconds from `since` to the first page showing `release` (undefined: the load ended first). */
  const shownAfter = async (release, since) => {
    for (;;) {
      const seen = load.stats.firstSeenAt?.[release];
      if (seen !== undefined) return seen - since;
      if (loadDone) return undefined;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await new Promise((r) => setTimeout(r, 1000));
  const swaps = [];
  for (const release of ['v2', 'v3']) {
    const liveAt = await deploy(release);
    const ms = await shownAfter(release, liveAt);
    swaps.push({ release, ms });
    console.log(ms === undefined ? `${release}: never seen by the load` : `${release}: on pages ${ms} ms after its import map was written`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  stopLoad.abort();
  const stats = { ...(await load.done), swaps };
  process.stdout.write(formatSummary(stats));
  const ok =
    stats.failed === 0 &&
    stats.mismatches === 0 &&
    ['v1', 'v2', 'v3'].every((r) => stats.releases[r] > 0) &&
    stats.last === 'v3' &&
    stats.swaps.every((s) => s.ms !== undefined);
  console.log(ok ? 'two deploys under load: no failed request, every page consistent.' : 'the demo did NOT go as expected (see above)');
  failed = !ok;
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all([...children].map((c) => new Promise((r) => c.once('exit', r))));
  await cdn.close();
}
process.exit(failed ? 1 : 0);
