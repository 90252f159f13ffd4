/**
 * The wire types between the transport adapters and the core: a request as
 * an adapter hands it over, and a response as an adapter writes it. A leaf
 * module: it imports nothing but types of the output form, so the
 * dispatcher, the endpoints and the adapters can all depend on it without
 * depending on each other.
 */
import type { Output } from './render/chunks.ts';

/**
 * A request's headers as the core reads them: by name (case-insensitive),
 * repeated fields joined with `, ` as WHATWG `Headers.get` does. A `Headers`
 * is one; the Node adapter hands over a view of the raw header lines, so no
 * `Headers` object is built per request.
 */
export interface RequestHeaders {
  get(name: string): string | null;
}

/**
 * How the core learns that a request ended before its answer did (the
 * client went away, or the response failed): a listener list, so that an
 * adapter need not make an `AbortSignal` for every request.
 */
export interface RequestEnd {
  /** Calls `listener` once when the request ends (in a microtask, if it already has). */
  onEnd(listener: (reason: unknown) => void): void;
}

/** A request as the adapters hand it over. */
export interface CoreRequest {
  method: string;
  /** The request target: path and query, e.g. `/products/3?x=1`. */
  target: string;
  headers: RequestHeaders;
  /** Fires when the request ends early; an adapter gives this or `end`. */
  signal?: AbortSignal;
  /** The same, without an AbortSignal (the Node adapter's). */
  end?: RequestEnd;
  /** Called with `Link` values for a 103 Early Hints response, before any waiting. */
  onEarlyHints?: (links: readonly string[]) => void;
  /** How an in-process caller wants a page written (`atoll.request`); never set from the network. */
  page?: { loader?: 'inline' | 'inert' | 'none'; headScript?: string };
}

/** A response body: rendered HTML in the internal form, or plain text. */
export type CoreBody =
  | { kind: 'html'; result: Output }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'none' };

/**
 * What the core reads and writes of a response's headers: the part of the
 * WHATWG `Headers` interface it uses. A `Headers` is one; so is the
 * plain-data `HeaderList` (header-values.ts) that pages carry until the
 * adapter turns it into its transport's form.
 */
export interface HeaderFields {
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  delete(name: string): void;
  forEach(callback: (value: string, name: string) => void): void;
  getSetCookie(): string[];
}

/** A response as the adapters write it. Its status and headers are already valid for the wire. */
export interface CoreResponse {
  status: number;
  headers: HeaderFields;
  body: CoreBody;
  requestId: string;
}
