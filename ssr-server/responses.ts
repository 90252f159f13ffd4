/**
 * The one helper for Atoll's small plain-text answers (404, 405, 414, …), so
 * every route answers them the same way: `text/plain`, never sniffed as
 * anything else.
 */
import type { CoreResponse } from './wire.ts';

/** A `text/plain` response; `headers` are added to (or override) the defaults. */
export function textResponse(status: number, text: string, requestId: string, headers: Record<string, string> = {}): CoreResponse {
  return {
    status,
    headers: new Headers({ 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers }),
    body: { kind: 'text', text },
    requestId,
  };
}
