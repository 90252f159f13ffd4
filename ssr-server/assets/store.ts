/**
 * Serving the client build: every file the manifest lists is read once at
 * start-up, pre-compressed (brotli, gzip) and answered from memory at
 * `/_atoll/assets/<file>` with its content type, an ETag and — for the
 * content-hashed files — `Cache-Control: public, max-age=31536000,
 * immutable`. Only names in the manifest are served, so no request path can
 * reach another file (`..`, `%2f` and friends simply are not names).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { CoreResponse, RequestHeaders } from '../wire.ts';
import { textResponse } from '../responses.ts';
import type { ClientManifest } from '../build/manifest.ts';

/** Cache-Control of content-hashed files. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  map: 'application/json; charset=utf-8',
  json: 'application/json; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** One servable file and its encodings. */
interface Asset {
  type: string;
  etag: string;
  immutable: boolean;
  identity: Uint8Array;
  /** Made at start-up, or on first use when the store was made with `precompress: false`. */
  gzip?: Uint8Array;
  br?: Uint8Array;
}

const encode = (data: Uint8Array, encoding: 'gzip' | 'br'): Uint8Array =>
  encoding === 'gzip' ? gzipSync(data, { level: 9 }) : brotliCompressSync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } });

/** The built files of one site, in memory. */
export class AssetStore {
  private readonly assets = new Map<string, Asset>();

  /**
   * Reads every file of `manifest` from `outDir`, and compresses each once
   * (brotli at 11, gzip at 9: a few hundred ms of CPU for a site's build) —
   * unless `precompress` is false: then each encoding is made when first
   * asked for. A generation worker of independent deploys (which never
   * serves assets: the main thread does) skips that work on every swap.
   */
  constructor(readonly outDir: string, readonly manifest: ClientManifest, options: { precompress?: boolean } = {}) {
    const precompress = options.precompress !== false;
    for (const name of Object.keys(manifest.files)) {
      const data = readFileSync(join(outDir, name));
      const ext = /\.([a-z0-9]+)$/.exec(name)?.[1] ?? '';
      this.assets.set(name, {
        type: TYPES[ext] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(data).digest('base64url').slice(0, 22)}"`,
        // `name-<hash>.js` and its `.map`: the hash is in the name.
        immutable: /-[\w-]{8,}\.(js|mjs|css)(\.map)?$/.test(name),
        identity: data,
        ...(precompress ? { gzip: encode(data, 'gzip'), br: encode(data, 'br') } : {}),
      });
    }
  }

  /** True when `name` is a served file. */
  has(name: string): boolean {
    return this.assets.has(name);
  }

  /** The raw bytes of a served file. */
  bytes(name: string): Uint8Array | undefined {
    return this.assets.get(name)?.identity;
  }

  /**
   * Answers `GET /_atoll/assets/<name>`: 404 for anything not built, 304 when
   * `If-None-Match` matches, else the best encoding the client accepts.
   */
  respond(name: string, headers: RequestHeaders, requestId: string): CoreResponse {
    const asset = this.assets.get(name);
    if (asset === undefined) {
      return textResponse(404, 'Not Found\n', requestId, { 'cache-control': 'no-store' });
    }
    const out = new Headers({
      'content-type': asset.type,
      'cache-control': asset.immutable ? IMMUTABLE : 'no-cache',
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
      // Public code that pages on other origins load as module scripts (CORS mode): embed.js, remote elements.
      'access-control-allow-origin': '*',
    });
    const encoding = pickEncoding(headers.get('accept-encoding'));
    const data = encoding === undefined ? asset.identity : (asset[encoding] ??= encode(asset.identity, encoding));
    // Each encoding is its own representation, with its own validator.
    const etag = encoding === undefined ? asset.etag : `${asset.etag.slice(0, -1)}-${encoding}"`;
    out.set('etag', etag);
    const inm = headers.get('if-none-match');
    if (inm !== null && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
      return { status: 304, headers: out, body: { kind: 'none' }, requestId };
    }
    if (encoding !== undefined) out.set('content-encoding', encoding);
    out.set('content-length', String(data.byteLength));
    return { status: 200, headers: out, body: { kind: 'bytes', data }, requestId };
  }
}

/** `br` or `gzip` when `Accept-Encoding` allows it (q > 0), else identity. */
export function pickEncoding(accept: string | null): 'br' | 'gzip' | undefined {
  if (accept === null) return undefined;
  const allowed = new Set<string>();
  for (const part of accept.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find((m) => m !== null);
    if (name && (q === undefined || Number(q![1]) > 0)) allowed.add(name.trim());
  }
  if (allowed.has('br')) return 'br';
  if (allowed.has('gzip')) return 'gzip';
  return undefined;
}
