/**
 * The HTTP client for remote elements (SPEC 6): a GET of the fragment URL
 * with the element's attributes as query parameters, over pooled keep-alive
 * connections (undici), with the body read as it arrives and bounded in size
 * and time.
 */
import { Agent, request } from 'undici';

/** Shared connection pools, one per origin, kept alive between requests. */
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64, pipelining: 1 });

/** Default largest remote body accepted. */
export const DEFAULT_MAX_REMOTE_BYTES = 2 * 1024 * 1024;

/** A remote element's answer. */
export interface RemoteResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Builds the fragment request URL: the entry's URL plus the attributes as query parameters. */
export function fragmentUrl(base: string, attributes: ReadonlyArray<readonly [string, string]>): string {
  const url = new URL(base);
  for (const [name, value] of attributes) url.searchParams.append(name, value);
  return url.href;
}

/**
 * Fetches a remote element. Rejects on a non-2xx status, a connection
 * error or reset, a body larger than `maxBytes`, or when `signal` fires.
 */
export async function fetchRemote(
  url: string,
  options: { headers: Record<string, string>; signal: AbortSignal; maxBytes: number },
): Promise<RemoteResponse> {
  const res = await request(url, {
    method: 'GET',
    headers: { accept: 'text/html', ...options.headers },
    signal: options.signal,
    dispatcher: agent,
  });
  if (res.statusCode < 200 || res.statusCode > 299) {
    res.body.resume();
    const err = new Error(`the remote answered ${res.statusCode}`);
    err.name = 'RemoteStatusError';
    (err as Error & { status: number }).status = res.statusCode;
    throw err;
  }
  const decoder = new TextDecoder();
  let body = '';
  let bytes = 0;
  for await (const chunk of res.body) {
    bytes += (chunk as Buffer).length;
    if (bytes > options.maxBytes) {
      res.body.destroy();
      const err = new Error(`the remote body is larger than ${options.maxBytes} bytes`);
      err.name = 'RemoteTooLargeError';
      throw err;
    }
    body += decoder.decode(chunk as Buffer, { stream: true });
  }
  body += decoder.decode();
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return { status: res.statusCode, headers, body };
}
