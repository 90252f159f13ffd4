/**
 * Server side of the testing kit: renders fixtures — a markup fragment, one
 * element with given data, or a route — through the same engine as
 * `atoll serve`, by its public in-process entry alone (`atoll.request` for
 * routes, `atoll.renderMarkup` for markup): the layout compiler, the page
 * renderer and `<atoll-head>` with the real client build and island loader,
 * which the engine writes inline, inert or not at all as a fixture asks.
 */
import { createAtoll, type Atoll, type AtollOptions, type Logger } from '../ssr-server/index.ts';
import { RECORDER_SCRIPT, type LoaderMode } from './protocol.ts';

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

/** The engine's way of writing the loader for each fixture mode. */
const LOADER = { run: 'inline', defer: 'inert', none: 'none' } as const;

/**
 * Loads the site at `root` once (building its client when stale) and returns
 * a renderer of fixture pages. Every page (but `loader: 'none'` ones) starts
 * its `<atoll-head>` with a small recorder script (island events and console
 * warnings, for the browser helpers) and, with `loader: 'defer'`, carries the
 * island loader inert until a test starts it.
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
  const errorsOf = (requestId: string): string[] =>
    lines.filter((l) => l.requestId === requestId && l.level === 'error').map(formatLine);

  return {
    atoll,
    async render(fixture, { loader: mode = 'run' } = {}) {
      const requestId = `fixture-${++fixtureCounter}`;
      const page = { loader: LOADER[mode], headScript: mode === 'none' ? undefined : RECORDER_SCRIPT };
      if ('route' in fixture) {
        const response = await atoll.request(fixture.route, { headers: { ...fixture.headers, 'x-request-id': requestId } }, page);
        const html = await response.text();
        if (page.headScript !== undefined && response.status < 300 && !html.includes(RECORDER_SCRIPT)) {
          throw new Error(`${fixture.route}: the page has no <atoll-head>, where the kit's recorder and the island loader go: add <atoll-head></atoll-head> to the layout's <head>`);
        }
        return { status: response.status, html, errors: errorsOf(requestId) };
      }
      let response: Response;
      try {
        response = await atoll.renderMarkup(
          { html: fixture.html, data: fixture.data, url: fixture.url, headers: { 'x-request-id': requestId }, title: 'Atoll fixture' },
          { ...page, strict: true },
        );
      } catch (err) {
        throw new Error(`the fixture markup is not valid:\n${err instanceof Error ? err.message : String(err)}`);
      }
      if (response.status >= 300 && response.status < 400) {
        throw new Error(`the fixture answered a redirect (${response.status} to ${response.headers.get('location')})`);
      }
      return { status: response.status, html: await response.text(), errors: errorsOf(requestId) };
    },
  };
}
