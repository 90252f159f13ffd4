/**
 * A generation worker (issue 16): one import-map generation of the site in
 * its own thread, so its module graph and custom-element registry die with
 * it when it is terminated.
 *
 * Started by `generations.ts` (through a small bootstrap that registers tsx
 * first when the engine runs from its TypeScript sources) with
 * {@link GenerationWorkerData} as `workerData`. It loads the site with the
 * map's elements merged over the config's (`createAtoll`, no client build:
 * the main thread built once), then probes: each element of the map must be
 * defined and render once without falling back. Only then does it post
 * `ready` and answer requests forwarded over its port (`worker-link.ts`).
 * A load problem or a failed probe is posted as `failed` with the message;
 * the main thread terminates the worker.
 *
 * Messages to the main thread (besides the link's): `{ t: 'ready', ms }`,
 * `{ t: 'failed', reason }`, `{ t: 'log', level, fields, message }` (every
 * log line goes through the main thread's logger, which tags it with the
 * generation's id).
 */
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { SiteError, formatProblem } from '../errors.ts';
import { createAtoll, type AtollOptions } from '../index.ts';
import type { Logger, LogLevel } from '../log.ts';
import { FALLBACK_ATTRIBUTE } from '../render/page.ts';
import { isStartupImportRejection } from '../site/registry.ts';
import type { AtollConfig } from '../site/config.ts';
import type { ClientOptions } from '../build/client.ts';
import { serve } from '../adapters/worker-link.ts';
import { elementsConfig } from './site-entries.ts';
import type { GenerationSpec } from './types.ts';

/** What a generation worker is started with. */
export interface GenerationWorkerData {
  spec: GenerationSpec;
  /** The port the main thread talks on (worker-link.ts). */
  port: MessagePort;
  /** The config given in code to `createAtoll` (its structured-clone-safe part). */
  config?: AtollConfig;
  /** The client options that can cross (outDir, base, firstScreen, a fixed nonce). */
  client?: Pick<ClientOptions, 'outDir' | 'base' | 'firstScreen'> & { nonce?: string };
  compress?: boolean;
  /** The main logger's level, when it has one. */
  logLevel?: LogLevel;
  /** The bootstrap's fields (ignored here). */
  entry?: string;
  tsx?: string;
}

const data = workerData as GenerationWorkerData;
const port = data.port;
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** Fields as they can cross: anything that cannot be cloned becomes its string. */
function cloneable(fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return structuredClone(fields);
  } catch {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      try {
        out[k] = structuredClone(v);
      } catch {
        out[k] = String(v);
      }
    }
    return out;
  }
}

const post = (m: Record<string, unknown>): void => {
  try {
    port.postMessage(m);
  } catch {
    // the main thread let go of this generation
  }
};

function line(level: Exclude<LogLevel, 'silent'>): (fields: Record<string, unknown>, message: string) => void {
  return (fields, message) => {
    if (RANK[level] < RANK[logger.level ?? 'debug']) return;
    post({ t: 'log', level, fields: cloneable(fields), message: String(message) });
  };
}

/** A logger whose lines go to the main thread's. */
const logger: Logger & { level: LogLevel } = {
  level: data.logLevel ?? 'info',
  debug: line('debug'),
  info: line('info'),
  warn: line('warn'),
  error: line('error'),
};

// Site code may leave a rejection unhandled; Node would end the thread (and
// every response it serves). A line instead, as `atoll serve` writes.
process.on('unhandledRejection', (e) => {
  if (isStartupImportRejection(e)) return;
  logger.error({ reason: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'unhandled rejection in a generation worker');
});

/**
 * A downloaded module is loaded from its cache file (`.atoll/deploys/<hash>.mjs`);
 * problems name the URL the map gave instead (line and column are the URL's
 * content's: the file is its bytes).
 */
function byUrl(text: string): string {
  let out = text;
  for (const [tag, file] of Object.entries(data.spec.modules)) {
    const url = data.spec.map.elements[tag]?.server;
    if (url === undefined || !/^https?:/i.test(url)) continue;
    // Longest first: the file URL and the absolute path contain the relative forms.
    const forms = [pathToFileURL(file).href, file, relative(process.cwd(), file), relative(data.spec.root, file)];
    for (const form of new Set(forms)) if (form !== '' && !form.startsWith('..')) out = out.split(form).join(url);
  }
  return out;
}

function describe(e: unknown): string {
  if (e instanceof SiteError) return byUrl(e.problems.map((p) => formatProblem(p)).join('\n'));
  return byUrl(e instanceof Error ? e.message : String(e));
}

async function main(): Promise<void> {
  const { spec } = data;
  const started = performance.now();
  let atoll;
  try {
    const given = data.config ?? {};
    const options: AtollOptions = {
      root: spec.root,
      configPath: spec.configPath,
      config: { ...given, elements: { ...given.elements, ...elementsConfig(spec.map, spec.modules) } },
      client: { ...data.client, build: false },
      logger,
      deploys: false,
      ...(data.compress !== undefined ? { compress: data.compress } : {}),
    };
    atoll = await createAtoll(options);
  } catch (e) {
    post({ t: 'failed', reason: `the site did not load with this import map:\n${describe(e)}` });
    return;
  }
  // Probe: every element of the map is defined, and renders once without falling back.
  const registry = (globalThis as { customElements?: { get(tag: string): unknown } }).customElements;
  for (const tag of Object.keys(spec.map.elements)) {
    const entry = spec.map.elements[tag]!;
    if (registry?.get(tag) === undefined) {
      post({ t: 'failed', reason: `<${tag}>: its server module (${entry.server}) does not define the element` });
      return;
    }
    try {
      const response = await atoll.renderMarkup({ tag });
      const html = await response.text();
      if (response.status >= 500 || html.includes(`${FALLBACK_ATTRIBUTE}=`)) {
        const phase = new RegExp(`${FALLBACK_ATTRIBUTE}="([^"]*)"`).exec(html)?.[1];
        post({ t: 'failed', reason: `<${tag}> (${entry.server}) failed its probe render${phase === undefined ? ` (status ${response.status})` : ` (${phase})`}` });
        return;
      }
    } catch (e) {
      post({ t: 'failed', reason: `<${tag}> (${entry.server}) failed its probe render: ${describe(e)}` });
      return;
    }
  }
  // The engine the pages use: `createAtoll` keeps it inside its handlers; the render path gives it.
  serve(port, atoll.engine);
  post({ t: 'ready', ms: Math.round(performance.now() - started) });
}

void main().catch((e: unknown) => post({ t: 'failed', reason: describe(e) }));
