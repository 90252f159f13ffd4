// web-test-runner: browser tests in Debian's Chromium. A middleware serves
// real Atoll pages (the same engine as `atoll serve`) on the test origin, at
// /atoll/<site>/<path>, so tests can load them in same-origin iframes.
import { existsSync } from 'node:fs';
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { register } from 'tsx/esm/api';

register();
const { createAtoll, silentLogger } = await import('./ssr-server/index.ts');
const { manyIslandsSite } = await import('./test/fixtures/islands-many/site.mjs');
// The testing kit (atoll/testing): fixtures rendered by the engine on request.
const { atollTestPlugin } = await import('./testing/index.ts');
// embed.js tests: a static host site and an Atoll server on two more origins (started on first use).
const { embedServers } = await import('./test/fixtures/embed/servers.ts');

const sites = {
  demo: '.',
  basic: 'test/fixtures/basic',
  islands: 'test/fixtures/islands',
  many: manyIslandsSite(),
  litcases: 'test/fixtures/lit-cases',
  fidelity: 'test/fixtures/fidelity',
};
// Sites with a client build (made here when missing or stale, in the site's
// gitignored .atoll/ folder), its files served under the site's prefix.
const built = new Set(['demo', 'islands', 'many', 'litcases', 'fidelity']);
// The lit-cases table's other side: the same cases through plain @lit-labs/ssr, at /plain-lit/case/<name>.
const { plainLitPlugin } = await import('./test/fixtures/lit-cases/plain-lit-plugin.ts');
const atolls = Object.fromEntries(
  await Promise.all(
    Object.entries(sites).map(async ([name, root]) => {
      // The islands fixture tests the strategies themselves: no first-screen preloads
      // (docs/islands.md), so a module request there proves that a strategy fired.
      const client = built.has(name) ? { build: 'if-stale', base: `/atoll/${name}/`, ...(name === 'islands' ? { firstScreen: 0 } : {}) } : undefined;
      return [name, await createAtoll({ root, logger: silentLogger, client })];
    }),
  ),
);

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  throw new Error(`Chromium not found at ${executablePath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
}

/** @type {import('@web/test-runner').TestRunnerConfig} */
export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testsFinishTimeout: 120_000,
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2022' }),
    embedServers(),
    // The demo site for its element tests; the kit's own fixture site for the kit's tests.
    atollTestPlugin({ root: '.' }),
    atollTestPlugin({ root: 'test/fixtures/testing', name: 'kit' }),
    plainLitPlugin(),
  ],
  middleware: [
    async (ctx, next) => {
      const m = /^\/atoll\/([a-z]+)(\/.*)$/.exec(ctx.url);
      const atoll = m && atolls[m[1]];
      if (!atoll) return next();
      ctx.respond = false;
      ctx.req.url = m[2];
      atoll.handler(ctx.req, ctx.res);
    },
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath,
        args: [
          '--headless=new',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      },
    }),
  ],
};
