/**
 * Atoll: `createAtoll` + `listen` from the engine. Nothing slow: the
 * repository's own site. Slow scenarios: a bench-only site under
 * `bench/sites/<scenario>/` that serves the demo's layout and elements with
 * sleeping `data()` hooks. `BENCH_ATOLL_CACHE=1`: every page element gets a
 * render-cache lifetime (a registry default, `cache: "60s"`), if the engine
 * really caches — else the server reports itself unsupported. Islands: the
 * demo's client build (`.atoll/client`, from `atoll build`) when there is one.
 */
// Atoll first: its Lit fast path must be installed before @lit-labs/ssr loads.
import { createAtoll, listen, silentLogger, type AtollConfig, type Site } from '../../ssr-server/index.ts';
import { basename, join } from 'node:path';
import { LitElementRenderer } from '@lit-labs/ssr';
import type { RenderInfo } from '@lit-labs/ssr/lib/render-value.js';
import { announce, announceUnsupported, serverContext } from '../lib/child.ts';
import { BENCH_DIR, PAGE_ELEMENTS, PAGE_PATH, REPO_ROOT } from '../lib/page.ts';
import type { Scenario } from '../lib/scenarios.ts';

const CACHED: AtollConfig = {
  elements: Object.fromEntries(PAGE_ELEMENTS.map((tag) => [tag, { cache: '60s' }])),
};

/** Checks that the bench site's hooks are the scenario's delays. */
function checkHooks(site: Site, scenario: Scenario): void {
  for (const tag of PAGE_ELEMENTS) {
    const ms = scenario.delays[tag];
    const def = site.registry.get(tag);
    const file = def?.hooks.data === undefined ? undefined : def.hooksFile;
    const expected = ms === undefined ? undefined : `sleep-${ms}.ts`;
    if ((file && basename(file)) !== expected) {
      throw new Error(`<${tag}> on the ${scenario.name} site has data() from ${file ?? 'none'}, expected ${expected ?? 'none'}`);
    }
  }
}

/** True when a second render of the page renders fewer element shadows than the first. */
async function renderCacheWorks(): Promise<boolean> {
  let shadows = 0;
  class CountingRenderer extends LitElementRenderer {
    override renderShadow(renderInfo: RenderInfo) {
      shadows++;
      return super.renderShadow(renderInfo);
    }
  }
  const probe = await createAtoll({ root: REPO_ROOT, logger: silentLogger, config: { ...CACHED, renderers: [CountingRenderer] } });
  await probe.render(PAGE_PATH);
  const first = shadows;
  await probe.render(PAGE_PATH);
  return first > 0 && shadows - first < first;
}

const { scenario } = await serverContext();
const cached = process.env.BENCH_ATOLL_CACHE === '1';
if (cached && !(await renderCacheWorks())) announceUnsupported('render cache not implemented');
const root = scenario.atollSite === undefined ? REPO_ROOT : join(BENCH_DIR, 'sites', scenario.atollSite);
// The bench sites serve the demo's elements, so they share the demo's client build (island loader and import map).
const client = { outDir: join(REPO_ROOT, '.atoll', 'client') };
const atoll = await createAtoll({ root, logger: silentLogger, client, config: cached ? CACHED : undefined });
checkHooks(atoll.site, scenario);
const running = await listen(atoll, { port: 0 });
await announce(running.url, running.server);
