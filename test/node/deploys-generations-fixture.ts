/**
 * What the generation tests share: a static server on 127.0.0.1 standing in
 * for the CDN (files put in memory, plus a `/latch` that holds requests
 * until released), element versions as small `.mjs` modules importing
 * `lit`, and the server import map written into the site.
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Cdn {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Serves `body` at `/<path>` (and keeps a copy on disk, for `file:` maps). */
  put(path: string, body: string): void;
  /** The disk copy of `/<path>`. */
  file(path: string): string;
  /** Resolves once `n` requests wait on `/latch`. */
  waiting(n: number): Promise<void>;
  /** Answers every request waiting on `/latch`, and the later ones at once. */
  release(): void;
  /** Requests served, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function cdnServer(): Promise<Cdn> {
  const files = new Map<string, string>();
  const dir = mkdtempSync(join(tmpdir(), 'atoll-cdn-'));
  const held: Array<() => void> = [];
  let released = false;
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/latch') {
      const answer = (): void => void res.end('ok');
      if (released) answer();
      else held.push(answer);
      return;
    }
    const body = files.get(path);
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = (path: string): string => join(dir, path.replace(/\//g, '__'));
  return {
    url,
    hits,
    put(path, body) {
      files.set(`/${path}`, body);
      writeFileSync(file(path), body);
    },
    file,
    async waiting(n) {
      while (held.length < n) await new Promise((r) => setTimeout(r, 10));
    },
    release() {
      released = true;
      for (const h of held.splice(0)) h();
    },
    close: () =>
      new Promise<void>((r) => {
        released = true;
        for (const h of held.splice(0)) h();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * One version of an element: `data()` says the version; with `mode="wait"`
 * it first waits on the CDN's latch, with `mode="crash"` it ends its thread
 * (the generation's worker) while the page streams.
 */
export function elementVersion(tag: string, version: string, cdnUrl: string): string {
  return `import { LitElement, html } from 'lit';
export const attributes = ['mode'];
export async function data(ctx) {
  const mode = ctx.attributes.mode;
  if (mode === 'wait') {
    await (await fetch(${JSON.stringify(cdnUrl + '/latch')})).text();
    return { v: ${JSON.stringify(version)}, waited: 'yes' };
  }
  if (mode === 'crash') {
    setTimeout(() => process.exit(1), 100);
    await new Promise(() => {});
  }
  return { v: ${JSON.stringify(version)}, waited: 'no' };
}
class Version extends LitElement {
  static properties = { v: {}, waited: {} };
  render() { return html\`<p>version \${this.v} waited \${this.waited}</p>\`; }
}
customElements.define(${JSON.stringify(tag)}, Version);
`;
}

/** Where map entries point: the CDN (`http:`, through the module cache) or the disk copies (`file:`). */
export const MAP_URLS: 'http' | 'file' = 'http';

/** Writes `<root>/map.json` naming, for each tag, the version folder `<tag>/<version>/` on the CDN (atomically: a poll never reads half a file). */
export function setMap(root: string, cdn: Cdn, versions: Record<string, string>): void {
  const elements: Record<string, { server: string; client: string }> = {};
  for (const [tag, version] of Object.entries(versions)) {
    const path = `${tag}/${version}/server.mjs`;
    elements[tag] = {
      server: MAP_URLS === 'http' ? `${cdn.url}/${path}` : pathToFileURL(cdn.file(path)).href,
      client: `${cdn.url}/${tag}/${version}/client.mjs`,
    };
  }
  const tmp = join(root, `map.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify({ elements }, null, 2));
  renameSync(tmp, join(root, 'map.json'));
}
