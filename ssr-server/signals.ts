/**
 * Signals a primary element's `data()` hook can throw to decide the response:
 * `throw notFound()` answers 404, `throw redirect('/elsewhere')` answers with a
 * redirect before any body. From a non-primary element they only make that
 * element fall back.
 */

/** An HTTP outcome thrown from a `data()` hook. */
export class HttpSignal extends Error {
  constructor(
    readonly status: number,
    readonly location?: string,
    message?: string,
  ) {
    super(message ?? (location !== undefined ? `redirect to ${location}` : `HTTP ${status}`));
    this.name = 'HttpSignal';
  }
}

/** The requested thing does not exist: the page answers 404. */
export function notFound(message = 'Not Found'): HttpSignal {
  return new HttpSignal(404, undefined, message);
}

/** The page answers with a redirect to `location` (302 unless given). */
export function redirect(location: string, status: 301 | 302 | 303 | 307 | 308 = 302): HttpSignal {
  return new HttpSignal(status, location);
}

/** Any other status (e.g. 410, 451, 503) for the page. */
export function httpStatus(status: number, message?: string): HttpSignal {
  return new HttpSignal(status, undefined, message);
}
