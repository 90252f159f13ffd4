#!/usr/bin/env node
/**
 * A static file server on 127.0.0.1 that stands in for the CDN teams upload
 * their element builds to: it serves a folder (default `.atoll/cdn/` here)
 * as it is. Versioned files (`<tag>/<version>/…`) are immutable, the import
 * map is revalidated on every read, and every answer allows any origin
 * (browsers load the client modules cross-origin, as module scripts).
 *
 *   node examples/independent-deploys/cdn.mjs [--dir DIR] [--port N]
 *
 * Environment: CDN_PORT (4400), CDN_DIR.
 */
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_CDN_DIR = join(here, '.atoll', 'cdn');

const TYPES = {
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Starts the server; resolves with its URL and a close function. */
export function startCdn({ dir = DEFAULT_CDN_DIR, port = 4400, host = '127.0.0.1', log = () => {} } = {}) {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const server = createServer((req, res) => {
    const headers = { 'access-control-allow-origin': '*', 'x-content-type-options': 'nosniff' };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
      return;
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://cdn').pathname);
    } catch {
      res.writeHead(400, headers).end('bad path\n');
      return;
    }
    const file = resolve(root, '.' + path);
    // Nothing outside the folder, no hidden files (the import map's lock and temporary files).
    if (path.includes('\0') || (file !== root && !file.startsWith(root + sep)) || /\/\./.test(path)) {
      res.writeHead(404, headers).end('not found\n');
      return;
    }
    let stat;
    try {
      stat = statSync(file);
    } catch {
      stat = undefined;
    }
    if (stat === undefined || !stat.isFile()) {
      res.writeHead(404, headers).end('not found\n');
      log(`404 ${path}`);
      return;
    }
    const versioned = !path.endsWith('/importmap.json');
    res.writeHead(200, {
      ...headers,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
    log(`200 ${path}`);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolvePromise({
        url: `http://${host}:${actual}`,
        dir: root,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, port: { type: 'string' }, quiet: { type: 'boolean' } } });
  const cdn = await startCdn({
    dir: values.dir ?? process.env.CDN_DIR ?? DEFAULT_CDN_DIR,
    port: Number(values.port ?? process.env.CDN_PORT ?? 4400),
    log: values.quiet ? () => {} : (line) => console.log(line),
  });
  console.log(`CDN: serving ${cdn.dir} at ${cdn.url}`);
  const stop = () => cdn.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
