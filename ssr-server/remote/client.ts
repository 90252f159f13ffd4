/**
 * The HTTP client for remote elements (SPEC 6): a GET of the fragment URL
 * with the element's attributes as query parameters, over pooled keep-alive
 * connections (undici), with the body read as it arrives and bounded in size
 * and time.
 */
import { Agent, request } from 'undici';
import type { RemoteFetcher } from './fetcher.ts';

export { fragmentUrl } from './fragment-url.ts';

/** Shared connection pools, one per origin, kept alive between requests. */
// maxHeaderSize: a remote that is not Atoll may send more than undici's 16 KiB of headers; they are cut to Atoll's bounds after reading.
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64, pipelining: 1, maxHeaderSize: 64 * 1024 });


/**
 * Fetches a remote element (the default {@link RemoteFetcher}): resolves as
 * soon as the response head is in, with the body still arriving. Rejects on
 * a non-2xx status, a connection error or reset, or when `signal` fires; the
 * body rejects on a reset, on more than `maxBytes`, or on the signal.
 */
export const fetchRemote: RemoteFetcher = async (url, options) => {
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
  const headers: Array<readonly [string, string]> = [];
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.push([name, v]);
    else headers.push([name, value]);
  }
  const body = readBody(res.body, options.maxBytes);
  body.catch(() => {}); // the caller may never ask for the body (page answered otherwise)
  return { status: res.statusCode, headers, body };
};

async function readBody(stream: AsyncIterable<unknown> & { destroy(): void }, maxBytes: number): Promise<string> {
  const decoder = new TextDecoder();
  let body = '';
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).length;
    if (bytes > maxBytes) {
      stream.destroy();
      const err = new Error(`the remote body is larger than ${maxBytes} bytes`);
      err.name = 'RemoteTooLargeError';
      throw err;
    }
    body += decoder.decode(chunk as Buffer, { stream: true });
  }
  return body + decoder.decode();
}
