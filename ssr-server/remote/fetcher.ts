/**
 * The remote-element fetcher as the core sees it: a function handed to the
 * engine (the default is the pooled undici client in `client.ts`), so the
 * renderer knows no HTTP library and tests can pass their own.
 */

/** What a fetch is given. */
export interface RemoteRequest {
  /** Request headers (the allowed ones of the page request, and its id). */
  headers: Record<string, string>;
  /** Fires on the element's timeout and on the client's disconnect. */
  signal: AbortSignal;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
}

/**
 * A remote's answer, as soon as its head has arrived: the status was 2xx,
 * `headers` are the raw header lines (unchecked: the caller validates them),
 * and `body` settles when the body is complete — rejecting on a reset, a
 * body over `maxBytes`, or the signal. `body` never rejects unhandled.
 */
export interface RemoteHead {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Promise<string>;
}

/**
 * Fetches a fragment URL. Rejects before the head on a connection error or
 * the signal; a non-2xx answer rejects with an error whose `status` is the
 * remote's status.
 */
export type RemoteFetcher = (url: string, request: RemoteRequest) => Promise<RemoteHead>;
