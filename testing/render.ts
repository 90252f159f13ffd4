/**
 * Server side of the testing kit: renders fixtures — a markup fragment, one
 * element with given data, or a route — through the same engine as
 * `atoll serve` (`createAtoll`, the layout compiler, the page renderer and
 * `<atoll-head>` with the real client build and island loader).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAtoll, type Atoll, type AtollOptions, type Logger } from '../ssr-server/index.ts';
import { prepareClient } from '../ssr-server/build/client.ts';
import { defaultOutDir, readManifest } from '../ssr-server/build/manifest.ts';
import { compileLayout } from '../ssr-server/layout/compile.ts';
import { collect } from '../ssr-server/render/chunks.ts';
import { renderPage, type PageEnvironment } from '../ssr-server/render/page.ts';
import { ProblemList, formatProblem } from '../ssr-server/errors.ts';
import type { ElementDefinition } from '../ssr-server/site/registry.ts';
import type { Site } from '../ssr-server/site/load.ts';
import { DEFERRED_LOADER_TYPE, RECORDER_SCRIPT, type LoaderMode } from './protocol.ts';

/** Options for {@link createFixtureRenderer}. */
export interface FixtureRendererOptions extends Pick<AtollOptions, 'root' | 'config' | 'configPath'> {
  /**
   * Build the site's client side: `'if-stale'` (default, as `atoll serve`),
   * `true` (always) or `false` (use what `atoll build` left; without a
   * build nothing hydrates).
   */
  build?: boolean | 'if-stale';
  /** The public path pages and built files are served under (default `/`). */
  base?: string;
  /** Where the engine's own log lines go besides the fixture's error report (default: nowhere). */
  logger?: Logger;
}

/** A markup fragment to render as a page body. */
export interface HtmlFixture {
  /** Microfrontend tags (with attributes, `hydrate`, light DOM…) and any HTML. */
  html: string;
  /** Properties by tag, used instead of that element's `data()` hook. */
  data?: Record<string, Record<string, unknown>>;
  /** The URL the elements' `data()` hooks see (default `/`). */
  url?: string;
}

/** A route of the site, with optional request headers. */
export interface RouteFixture {
  route: string;
  headers?: Record<string, string>;
}

/** A rendered fixture page. */
export interface RenderedFixture {
  status: number;
  html: string;
  /** Error log lines of the render (an element that failed, …), formatted. */
  errors: string[];
}

/** Renders fixtures of one site. */
export interface FixtureRenderer {
  /** The engine (as `atoll serve` runs it) for the site. */
  atoll: Atoll;
  /** Renders a fragment or a route to a complete page. */
  render(fixture: HtmlFixture | RouteFixture, options?: { loader?: LoaderMode | 'none' }): Promise<RenderedFixture>;
}

type LogLine = { level: string; msg: string } & Record<string, unknown>;

const formatLine = (l: LogLine): string => {
  const err = l.err as { message?: string } | undefined;
  const where = typeof l.element === 'string' ? `<${l.element}>${typeof l.phase === 'string' ? ` (${l.phase})` : ''}: ` : '';
  return `${where}${l.msg}${err?.message ? `: ${err.message}` : ''}`;
};

let fixtureCounter = 0;

/**
 * Loads the site at `root` once (building its client when stale) and returns
 * a renderer of fixture pages. Every page starts with a small recorder script
 * (island events and console warnings, for the browser helpers) and, with
 * `loader: 'defer'`, carries the island loader inert until a test starts it.
 */
export async function createFixtureRenderer(options: FixtureRendererOptions = {}): Promise<FixtureRenderer> {
  const lines: LogLine[] = [];
  const outer = options.logger;
  const push = (level: 'info' | 'warn' | 'error') => (fields: Record<string, unknown>, msg: string): void => {
    if (level !== 'info' && typeof fields.requestId === 'string') {
      lines.push({ level, msg, ...fields });
      if (lines.length > 500) lines.splice(0, lines.length - 500);
    }
    outer?.[level](fields, msg);
  };
  const logger: Logger = { info: push('info'), warn: push('warn'), error: push('error') };
  const base = (options.base ?? '/').replace(/\/*$/, '/');
  const atoll = await createAtoll({
    root: options.root,
    config: options.config,
    configPath: options.configPath,
    logger,
    cache: false,
    client: { build: options.build ?? 'if-stale', base },
  });
  const site = atoll.site;
  // The engine already built (or found) the client; this only reads it.
  const client = await prepareClient(site, { build: false, base }, logger);
  const outDir = defaultOutDir(site.root);
  const manifest = readManifest(outDir);
  const loader = manifest === undefined ? undefined : readFileSync(join(outDir, manifest.loader), 'utf8');

  const finish = (html: string, mode: LoaderMode | 'none'): string => {
    if (loader !== undefined && mode !== 'run') {
      const inline = html.indexOf(`>${loader}</script>`);
      if (inline !== -1) {
        const open = html.lastIndexOf('<script', inline);
        const keep = mode === 'defer' ? `<script type="${DEFERRED_LOADER_TYPE}">${loader}</script>` : '';
        html = html.slice(0, open) + keep + html.slice(inline + loader.length + 10);
      }
    }
    return html;
  };
  const errorsOf = (requestId: string): string[] =>
    lines.filter((l) => l.requestId === requestId && l.level === 'error').map(formatLine);

  return {
    atoll,
    async render(fixture, { loader: mode = 'run' } = {}) {
      const requestId = `fixture-${++fixtureCounter}`;
      if ('route' in fixture) {
        const page = await atoll.render(fixture.route, { headers: { ...fixture.headers, 'x-request-id': requestId } });
        const html = page.html.replace(/<head(\s[^>]*)?>/i, (m) => `${m}<script>${RECORDER_SCRIPT}</script>`);
        return { status: page.status, html: finish(html, mode), errors: errorsOf(requestId) };
      }
      const source =
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Atoll fixture</title>' +
        `<script>${RECORDER_SCRIPT}</script><atoll-head></atoll-head></head>\n<body>\n${fixture.html}\n</body>\n</html>\n`;
      const problems = new ProblemList();
      const layout = compileLayout({ file: '(fixture)', source, isElement: (tag) => site.registry.has(tag), problems });
      if (problems.errors.length > 0) throw new Error(`the fixture markup is not valid:\n${problems.errors.map(formatProblem).join('\n')}`);
      const env: PageEnvironment = {
        site: withData(site, fixture.data),
        logger,
        head: client.head,
        preloads: client.preloads,
      };
      const url = new URL(fixture.url ?? '/', 'http://fixture.test');
      const start = renderPage(env, { url, headers: new Headers(), signal: new AbortController().signal, requestId }, layout);
      const result = await start.result;
      if (result.type === 'redirect') throw new Error(`the fixture answered a redirect (${result.status} to ${result.location})`);
      const html = await collect(result.body);
      const warnings = problems.warnings.map((w) => `${w.message}`);
      return { status: result.status, html: finish(html, mode), errors: [...warnings, ...errorsOf(requestId)] };
    },
  };
}

/** `site` with the `data()` hook of each tag in `data` replaced by its given properties. */
function withData(site: Site, data: Record<string, Record<string, unknown>> | undefined): Site {
  if (data === undefined || Object.keys(data).length === 0) return site;
  const registry = new Map(site.registry);
  for (const [tag, props] of Object.entries(data)) {
    const def = registry.get(tag);
    if (def === undefined) throw new Error(`data was given for <${tag}>, which is not an element of the site at ${site.root}`);
    const patched: ElementDefinition = { ...def, hooks: { ...def.hooks, data: () => props } };
    registry.set(tag, patched);
  }
  return { ...site, registry };
}
