#!/usr/bin/env node
/**
 * A bounded load on the host site: a few clients request the page back to
 * back for a while and count what they get — failures (an error, a status
 * other than 200, a page without the team's element rendered) and which
 * release of `<team-greeting>` each page shows. It also checks that every
 * page's browser import map names the client module of the release the
 * server rendered (one client URL per release, one release per client URL).
 *
 *   node examples/independent-deploys/load.mjs [--url URL] [--seconds N] [--clients N]
 *
 * Prints a line a second and a summary; exits 1 when a request failed.
 * Ctrl-C ends it early (with the summary).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Runs the load; resolves with its counts. `onTick` gets them once a second. */
export function runLoad(options) {
  return startLoad(options).done;
}

/** Starts the load: `stats` fills in as it runs, `done` resolves with it at the end. */
export function startLoad(options) {
  const stats = {};
  return { stats, done: load(options, stats) };
}

async function load({ url, seconds = 20, clients = 4, onTick = () => {}, signal } = {}, stats) {
  const started = performance.now();
  const end = started + seconds * 1000;
  Object.assign(stats, {
    requests: 0,
    failed: 0,
    failures: [],
    /** release → pages */
    releases: {},
    /** release → ms after the start when it was first seen */
    firstSeen: {},
    /** release → when it was first seen (Date.now()) */
    firstSeenAt: {},
    /** release → the client URLs the pages' import maps named with it */
    clientUrls: {},
    mismatches: 0,
    latency: [],
    last: undefined,
  });
  const stopped = () => performance.now() >= end || signal?.aborted === true;
  const fail = (why) => {
    stats.failed++;
    if (stats.failures.length < 20) stats.failures.push(why);
  };
  async function client() {
    while (!stopped()) {
      const t0 = performance.now();
      stats.requests++;
      try {
        const res = await fetch(url, { headers: { 'user-agent': 'atoll-example-load' } });
        const html = await res.text();
        stats.latency.push(performance.now() - t0);
        if (res.status !== 200) {
          fail(`${res.status} ${html.slice(0, 120)}`);
          continue;
        }
        const release = /data-release="([^"]*)"/.exec(html)?.[1];
        if (release === undefined || /<team-greeting[^>]*atoll-fallback/.test(html)) {
          fail('the page has no rendered <team-greeting>');
          continue;
        }
        stats.releases[release] = (stats.releases[release] ?? 0) + 1;
        if (stats.firstSeen[release] === undefined) {
          stats.firstSeen[release] = Math.round(performance.now() - started);
          stats.firstSeenAt[release] = Date.now();
        }
        stats.last = release;
        const client = /"@atoll\/team-greeting"\s*:\s*"([^"]+)"/.exec(html)?.[1] ?? '(none)';
        (stats.clientUrls[release] ??= new Set()).add(client);
      } catch (e) {
        fail(`${e.cause?.code ?? e.code ?? ''} ${e.message}`.trim());
      }
    }
  }
  const ticker = setInterval(() => onTick(stats, performance.now() - started), 1000);
  try {
    await Promise.all(Array.from({ length: clients }, client));
  } finally {
    clearInterval(ticker);
  }
  // Server HTML and browser modules from the same version: one client URL per release, and the other way round.
  const owner = new Map();
  for (const [release, urls] of Object.entries(stats.clientUrls)) {
    if (urls.size > 1) stats.mismatches++;
    for (const u of urls) {
      if (owner.has(u) && owner.get(u) !== release) stats.mismatches++;
      owner.set(u, release);
    }
  }
  stats.ms = Math.round(performance.now() - started);
  return stats;
}

/** One line of counts. */
export function formatCounts(stats) {
  const releases = Object.entries(stats.releases).map(([r, n]) => `${r}: ${n}`).join(', ');
  return `${stats.requests} pages, ${stats.failed} failed — ${releases || 'no release seen yet'}`;
}

/** The summary at the end. */
export function formatSummary(stats) {
  const sorted = [...stats.latency].sort((a, b) => a - b);
  const pct = (p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]).toFixed(1);
  let out = `${stats.requests} pages in ${(stats.ms / 1000).toFixed(1)} s: ${stats.failed} failed; latency p50 ${pct(50)} ms, p99 ${pct(99)} ms\n`;
  for (const [release, n] of Object.entries(stats.releases)) {
    out += `  release ${release}: ${n} pages, first seen at ${(stats.firstSeen[release] / 1000).toFixed(1)} s, client ${[...stats.clientUrls[release]].join(' ')}\n`;
  }
  out += stats.mismatches === 0
    ? '  every page imported the client module of the release its server HTML came from\n'
    : `  ${stats.mismatches} release/client mismatches!\n`;
  for (const f of stats.failures) out += `  failure: ${f}\n`;
  return out;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { url: { type: 'string' }, seconds: { type: 'string' }, clients: { type: 'string' } } });
  const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? 4401}/`;
  const controller = new AbortController();
  process.on('SIGINT', () => controller.abort());
  console.log(`load: ${values.clients ?? 4} clients on ${url} for ${values.seconds ?? 20} s (Ctrl-C ends it)`);
  const stats = await runLoad({
    url,
    seconds: Number(values.seconds ?? 20),
    clients: Number(values.clients ?? 4),
    signal: controller.signal,
    onTick: (s, ms) => console.log(`${(ms / 1000).toFixed(0).padStart(3)} s  ${formatCounts(s)}`),
  });
  process.stdout.write(formatSummary(stats));
  process.exitCode = stats.failed === 0 && stats.mismatches === 0 ? 0 : 1;
}
