/**
 * Atoll: `createAtoll` + `listen` from the engine. Nothing slow: the page's
 * site (the repository's own for `/home`, `bench/sites/pages/` for the bench
 * pages). Slow scenarios: a bench-only site under `bench/sites/<scenario>/`
 * that serves the same layouts and elements with sleeping `data()` hooks.
 * `BENCH_ATOLL_CACHE=1`: every page element gets a render-cache lifetime
 * (`cache: "60s"`), if the engine really caches — else the server reports
 * itself unsupported. `BENCH_ATOLL_ENGINE=<checkout>`: the engine is that
 * checkout's `ssr-server` (the bench's `atoll-before` servers), serving this
 * repository's sites. Islands: the demo's client build (`.atoll/client`, from
 * `atoll build`) when there is one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RenderInfo } from '@lit-labs/ssr/lib/render-value.js';
import type { AtollConfig, Site } from '../../ssr-server/index.ts';
import { announce, announceUnsupported, serverContext } from '../lib/child.ts';
import { BENCH_DIR, CLIENT_DIR, type PageShape } from '../lib/page.ts';
import type { Scenario } from '../lib/scenarios.ts';

/**
 * A render-cache lifetime for every element of the page. Code config replaces
 * a file's entry for the same tag, so the site's entry (its `module`) is kept.
 */
function cachedConfig(shape: PageShape): AtollConfig {
  const file = join(shape.site, 'atoll.config.json');
  const entries = (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as AtollConfig).elements : undefined) ?? {};
  return { elements: Object.fromEntries(shape.elements.map(({ tag }) => [tag, { ...entries[tag], cache: '60s' }])) };
}

/** Checks that the bench site's hooks are the scenario's delays. */
function checkHooks(site: Site, shape: PageShape, scenario: Scenario): void {
  for (const { tag } of shape.elements) {
    const ms = scenario.delays[tag];
    const def = site.registry.get(tag);
    const file = def?.hooks.data === undefined ? undefined : def.hooksFile;
    const expected = ms === undefined ? undefined : `sleep-${ms}.ts`;
    if ((file && basename(file)) !== expected) {
      throw new Error(`<${tag}> on the ${scenario.name} site has data() from ${file ?? 'none'}, expected ${expected ?? 'none'}`);
    }
  }
}

// Atoll first: its Lit fast path must be installed before @lit-labs/ssr loads.
const engineDir = process.env.BENCH_ATOLL_ENGINE;
const compiled = process.env.BENCH_ENGINE === 'compiled';
const engineEntry = (dir: string): string => (compiled ? join(dir, 'dist', 'ssr-server', 'index.js') : join(dir, 'ssr-server', 'index.ts'));
const engine = (await import(
  engineDir ? pathToFileURL(engineEntry(engineDir)).href : compiled ? pathToFileURL(engineEntry(join(BENCH_DIR, '..'))).href : '../../ssr-server/index.ts'
)) as typeof import('../../ssr-server/index.ts');
const { createAtoll, listen, silentLogger } = engine;
const { LitElementRenderer } = await import('@lit-labs/ssr');

/** True when a second render of the page renders fewer element shadows than the first. */
async function renderCacheWorks(shape: PageShape): Promise<boolean> {
  let shadows = 0;
  class CountingRenderer extends LitElementRenderer {
    override renderShadow(renderInfo: RenderInfo) {
      shadows++;
      return super.renderShadow(renderInfo);
    }
  }
  const config = { ...cachedConfig(shape), renderers: [CountingRenderer] };
  const probe = await createAtoll({ root: shape.site, logger: silentLogger, client: { outDir: CLIENT_DIR }, config });
  await probe.render(shape.path);
  const first = shadows;
  await probe.render(shape.path);
  return first > 0 && shadows - first < first;
}

const { scenario, shape } = await serverContext();
const cached = process.env.BENCH_ATOLL_CACHE === '1';
if (cached && !(await renderCacheWorks(shape))) announceUnsupported('render cache not implemented');
const root = scenario.atollSite === undefined ? shape.site : join(BENCH_DIR, 'sites', scenario.atollSite);
// The bench sites serve the demo's elements, so they share the demo's client build (island loader and import map).
const client = { outDir: CLIENT_DIR };
const atoll = await createAtoll({ root, logger: silentLogger, client, config: cached ? cachedConfig(shape) : undefined });
checkHooks(atoll.site, shape, scenario);
const running = await listen(atoll, { port: 0 });
await announce(running.url, running.server);
