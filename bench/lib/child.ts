/**
 * The side of a bench server process: which scenario to serve, the reference
 * page, a local `node:http` server, and the one line that tells the driver
 * where to send requests. Each `bench/servers/*.ts` runs in its own process so
 * that its memory is its own; it can also be started by hand:
 * `BENCH_PAGE=shop-50 BENCH_SCENARIO=slow-one node --import tsx bench/servers/atoll.ts`.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import type { AddressInfo } from 'node:net';
import { isPageName, loadReferencePage, PAGES, type PageShape, type ReferencePage } from './page.ts';
import { isScenarioName, SCENARIOS, type Scenario } from './scenarios.ts';

/** What the driver reads from a server's first line of output. */
export type Announcement = { url: string } | { unsupported: string };

export interface ServerContext {
  scenario: Scenario;
  /** The page shape served (`BENCH_PAGE`, default `home`). */
  shape: PageShape;
  page: ReferencePage;
}

let current: PageShape | undefined;

export async function serverContext(): Promise<ServerContext> {
  const name = process.env.BENCH_SCENARIO ?? 'load';
  if (!isScenarioName(name)) throw new Error(`unknown BENCH_SCENARIO "${name}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  const pageName = process.env.BENCH_PAGE || 'home';
  if (!isPageName(pageName)) throw new Error(`unknown BENCH_PAGE "${pageName}" (known: ${Object.keys(PAGES).join(', ')})`);
  current = PAGES[pageName];
  return { scenario: SCENARIOS[name], shape: current, page: await loadReferencePage(current) };
}

/** Starts a `node:http` server on 127.0.0.1 with a free port. */
export async function listenLocal(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

/**
 * Tells the driver the page's URL, and exits cleanly when told to stop. With
 * `BENCH_CPU_PROFILE=<file>`, the CPU is profiled from here (serving only, not
 * start-up) and the profile written to that file on stop.
 */
export async function announce(baseUrl: string, ...servers: Server[]): Promise<void> {
  const profileFile = process.env.BENCH_CPU_PROFILE;
  const profiler = profileFile ? await startProfiler() : undefined;
  onStop(servers, async () => {
    if (profiler !== undefined && profileFile) writeFileSync(profileFile, JSON.stringify(await profiler.stop()));
  });
  print({ url: baseUrl + (current ?? PAGES.home).path });
}

async function startProfiler(): Promise<{ stop(): Promise<unknown> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  await session.post('Profiler.start');
  return { stop: async () => withSourcePositions((await session.post('Profiler.stop')).profile) };
}

/**
 * tsx compiles each TypeScript module to one line and Lit ships minified
 * builds: map the profile's positions (and minified names) back to the
 * sources through their source maps, so that the summary and DevTools show
 * real files, lines and names.
 */
function withSourcePositions(profile: Profiler.Profile): Profiler.Profile {
  for (const { callFrame: f } of profile.nodes) {
    if (!f.url.startsWith('file:') || f.lineNumber < 0) continue;
    const entry = findSourceMap(f.url)?.findEntry(f.lineNumber, f.columnNumber);
    if (!entry || !('originalLine' in entry)) continue;
    f.url = entry.originalSource;
    f.lineNumber = entry.originalLine;
    f.columnNumber = entry.originalColumn;
    const name = (entry as { name?: string }).name;
    if (f.functionName.length <= 2 && name) f.functionName = name;
  }
  return profile;
}

/** Tells the driver this server cannot run (e.g. a feature Atoll lacks), then exits. */
export function announceUnsupported(reason: string): never {
  print({ unsupported: reason });
  process.exit(0);
}

function print(a: Announcement): void {
  process.stdout.write(JSON.stringify(a) + '\n');
}

/** SIGTERM (or SIGINT) closes the servers' connections, runs `last`, and exits. */
function onStop(servers: Server[], last: () => Promise<void>): void {
  const stop = (): void => {
    for (const s of servers) s.closeAllConnections();
    last().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
