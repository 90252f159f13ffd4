/**
 * The limit: Atoll's rendered page, byte for byte, written by `node:http`.
 * With slow elements it is the ideal streaming server: the bytes before the
 * first slow element go out at once, each later part as soon as every slow
 * element before it would be ready.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { announce, listenLocal, serverContext } from '../lib/child.ts';
import type { PageShape, ReferencePage } from '../lib/page.ts';

interface Part {
  bytes: Buffer;
  /** When it may be written, in ms after the request arrived. */
  at: number;
}

function partsOf(shape: PageShape, page: ReferencePage, delays: Readonly<Record<string, number>>): Part[] {
  const parts: Part[] = [];
  let cursor = 0;
  let at = 0;
  shape.elements.forEach(({ tag }, i) => {
    const ms = delays[tag];
    if (ms === undefined) return;
    parts.push({ bytes: Buffer.from(page.html.slice(cursor, page.starts[i])), at });
    cursor = page.starts[i]!;
    at = Math.max(at, ms);
  });
  parts.push({ bytes: Buffer.from(page.html.slice(cursor)), at });
  return parts;
}

async function stream(res: ServerResponse, parts: Part[], arrived: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  for (const [i, part] of parts.entries()) {
    const wait = arrived + part.at - performance.now();
    if (wait > 0) await sleep(wait);
    if (res.destroyed) return;
    if (i === parts.length - 1) res.end(part.bytes);
    else res.write(part.bytes);
  }
}

const { scenario, shape, page } = await serverContext();
const parts = partsOf(shape, page, scenario.delays);
const whole = parts.length === 1 ? parts[0]!.bytes : undefined;
const { server, url } = await listenLocal((_req, res) => {
  if (whole !== undefined) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': whole.length });
    res.end(whole);
  } else void stream(res, parts, performance.now());
});
await announce(url, server);
