/**
 * `atollTestPlugin`: the web-test-runner plugin of Atoll's testing kit. It
 * loads one site through the same engine as `atoll serve` (building its
 * client when stale), renders the fixtures the browser helpers ask for
 * (`ssrFixture` in `atoll-ssr/testing/browser`), and serves those pages and the
 * site's client build on the test server under `/__atoll/<name>/`.
 *
 * ```js
 * // web-test-runner.config.mjs
 * import { register } from 'tsx/esm/api';
 * register();
 * const { atollTestPlugin } = await import('atoll-ssr/testing');
 * export default { plugins: [atollTestPlugin({ root: '.' }), esbuildPlugin({ ts: true })], … };
 * ```
 */
import type { Logger } from '../ssr-server/index.ts';
import { createFixtureRenderer, type FixtureRenderer } from './render.ts';
import { DEFAULT_SITE, RENDER_COMMAND, sitePrefix, type FixtureRequest, type FixtureResponse } from './protocol.ts';

/** Options for {@link atollTestPlugin}. */
export interface AtollTestPluginOptions {
  /** The site folder (with `elements/` and `layouts/`), relative to the working directory. Default `.`. */
  root?: string;
  /**
   * The site's name for the browser helpers (`ssrFixture(…, { site })`),
   * when one config tests several sites. Default `'default'`.
   */
  name?: string;
  /** When to run the client build: `'if-stale'` (default), `true` or `false`. */
  build?: boolean | 'if-stale';
  /** Receives the engine's log lines (default: only failed fixtures report theirs, in the test). */
  logger?: Logger;
}

/**
 * The plugin, as web-test-runner sees it: structurally a `TestRunnerPlugin`
 * (the parts the kit implements), declared here so that the kit's types need
 * neither `@web/test-runner` nor `koa` — a project that only uses
 * `renderToDocument` type-checks without them.
 */
export interface AtollTestPlugin {
  name: string;
  serverStart(): Promise<void>;
  executeCommand(args: { command: string; payload?: unknown }): Promise<FixtureResponse | undefined>;
  serve(context: { path: string; method: string }): Promise<{ body: string; type: string; headers: Record<string, string> } | undefined>;
}

/** Pages kept for the browser to load (a test loads each right after rendering it). */
const KEPT_PAGES = 50;

/**
 * The web-test-runner plugin that server-renders fixtures for the browser
 * helpers of `atoll-ssr/testing/browser`. One plugin per site; give each a
 * `name` when there are several.
 */
export function atollTestPlugin(options: AtollTestPluginOptions = {}): AtollTestPlugin {
  const site = options.name ?? DEFAULT_SITE;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(site)) throw new Error(`atollTestPlugin: name "${site}" must be lower-case letters, digits and dashes`);
  const prefix = sitePrefix(site);
  let renderer: Promise<FixtureRenderer> | undefined;
  const pages = new Map<string, string>();
  let counter = 0;

  const start = (): Promise<FixtureRenderer> =>
    (renderer ??= createFixtureRenderer({ root: options.root ?? '.', build: options.build, base: prefix, logger: options.logger }));

  async function renderFixture(request: FixtureRequest): Promise<FixtureResponse> {
    try {
      const r = await start();
      const page =
        request.kind === 'route'
          ? await r.render({ route: request.path, headers: request.headers }, { loader: request.loader })
          : await r.render({ html: request.html, data: request.data, url: request.url }, { loader: request.loader });
      if (request.kind === 'html' && page.errors.length > 0) {
        return { ok: false, error: `the server could not render the fixture:\n  ${page.errors.join('\n  ')}` };
      }
      if (page.status >= 500) {
        return { ok: false, error: `the server answered ${page.status} for ${request.kind === 'route' ? request.path : 'the fixture'}:\n  ${page.errors.join('\n  ')}` };
      }
      const id = `p${++counter}`;
      pages.set(id, page.html);
      for (const old of pages.keys()) {
        if (pages.size <= KEPT_PAGES) break;
        pages.delete(old);
      }
      return { ok: true, url: `${prefix}__fixture/${id}`, status: page.status };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  return {
    name: `atoll-test:${site}`,
    async serverStart() {
      await start();
    },
    async executeCommand({ command, payload }) {
      if (command !== RENDER_COMMAND) return undefined;
      const request = payload as FixtureRequest;
      if (request?.site !== site) return undefined; // another site's plugin answers
      return renderFixture(request);
    },
    async serve(context) {
      if (!context.path.startsWith(prefix) || context.method !== 'GET') return undefined;
      const rest = context.path.slice(prefix.length);
      if (rest.startsWith('__fixture/')) {
        const html = pages.get(rest.slice('__fixture/'.length));
        if (html === undefined) return undefined;
        return { body: html, type: 'html', headers: { 'cache-control': 'no-store' } };
      }
      if (rest.startsWith('_atoll/assets/')) {
        const { atoll } = await start();
        const response = await atoll.request(`/${rest}`);
        if (!response.ok) return undefined;
        return {
          body: await response.text(),
          type: response.headers.get('content-type') ?? 'js',
          headers: { 'cache-control': 'no-store' },
        };
      }
      return undefined;
    },
  };
}
