/**
 * The size budget of the inline island loader (SPEC 5, issue 4): at most
 * 2 KB minified and gzipped, measured on the file `atoll build` writes and
 * inlines into every page. (11ty's is-land: 1.79 KB with brotli.) It was
 * 1.5 KB until issue 10 (1,519 B then): holding and replaying input for every
 * strategy with typed form state carried over, hydrating light-DOM children
 * with their parent, and one import per tag took it to about 2,000 B.
 * Issue 15 (client navigation) added importing the client router in
 * navigation pages and the two hooks it needs (modules imported by URL from
 * a table the router extends; inserted islands started without the
 * late-island report): 2,045 → 2,095 B. Issue 10's first-screen work —
 * `visible` islands whose module the page modulepreloads start at once, and
 * groups whose strategies fire together hydrate in one task — added 168 B
 * (2,263 B) for the visible islands of the demo's first screen hydrated
 * about a quarter sooner on the slow-mobile repeat view (docs/benchmarks.md,
 * "## Islands"), so the budget was 2,270 B. Evaluating the modules that
 * `<atoll-head>` marks eager (`data-atoll-eager`) when the loader starts
 * added 23 B (2,286 B): the first screen's islands then hydrate while the
 * page is parsed instead of after its first frame (slow-mobile repeat view
 * 1.16× → 0.95× of client-only), so the budget is 2,290 B.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { buildClient, buildLoader } from '../../ssr-server/build/build.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { layout, litElement, makeSite } from '../helpers.ts';

/** The budget, in bytes of gzip (level 9) of the minified loader. */
const BUDGET = 2290;

test(`the built inline loader is at most ${BUDGET} bytes minified and gzipped`, async () => {
  const root = makeSite({ 'layouts/index.html': layout('<ls-a></ls-a>'), 'elements/ls-a.ts': litElement('ls-a') });
  const { outDir, manifest } = await buildClient(await loadSite({ root }));
  const code = readFileSync(join(outDir, manifest.loader));
  const gzip = gzipSync(code, { level: 9 }).length;
  const brotli = brotliCompressSync(code).length;
  process.stdout.write(`loader: ${code.length} B minified, ${gzip} B gzip, ${brotli} B brotli\n`);
  assert.equal(manifest.files[manifest.loader]!.gzip, gzip, 'the manifest reports the same size');
  assert.ok(gzip <= BUDGET, `the loader is ${gzip} B gzipped; the budget is ${BUDGET} B`);
});

test('the loader is one self-contained classic script (no import statements, no exports)', async () => {
  const { code } = await buildLoader();
  assert.match(code, /^\(\(\)=>\{/);
  assert.doesNotMatch(code, /^\s*import\s|export\s/m);
  assert.doesNotMatch(code, /<\/script/i, 'safe to inline in a <script> element');
});
