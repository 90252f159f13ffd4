/**
 * The Web adapter: `fetch(Request) => Response`, for runtimes and frameworks
 * built on the Fetch API. The body is a byte stream pulled by the consumer,
 * so backpressure and cancellation work as with the Node adapter.
 */
import { drainTo, type Sink } from '../render/chunks.ts';
import { handle, type CoreRequest, type Engine } from '../handle.ts';
import { toWebHeaders } from '../header-values.ts';
import { errorFields } from '../log.ts';

/**
 * Builds a `fetch`-style handler. Like the Node adapter, it never lets a
 * failure out: a response that cannot be built becomes a clean 500, and a
 * body that fails while streaming errors that stream only.
 */
export function fetchHandler(engine: Engine): (request: Request, page?: CoreRequest['page']) => Promise<Response> {
  const respond = respondTo(engine);
  return async (request, page) => {
    try {
      return await respond(request, page);
    } catch (e) {
      try {
        engine.logger.error({ ...errorFields(e) }, 'the response could not be built; answered 500');
      } catch {
        // an operator logger that throws: nothing left to do
      }
      return new Response('Internal Server Error\n', {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
      });
    }
  };
}

/** A macrotask turn, where the runtime has one cheaper than a timer. */
const yieldTurn: (f: () => void) => void = typeof setImmediate === 'function' ? (f) => setImmediate(f) : (f) => setTimeout(f, 0);

function respondTo(engine: Engine): (request: Request, page?: CoreRequest['page']) => Promise<Response> {
  return async (request, page) => {
    const url = new URL(request.url);
    const controller = new AbortController();
    request.signal.addEventListener('abort', () => controller.abort(request.signal.reason), { once: true });
    const response = await handle(engine, {
      method: request.method,
      target: url.pathname + url.search,
      headers: request.headers,
      signal: controller.signal,
      page,
    });
    const body = response.body;
    if (request.method === 'HEAD' || body.kind === 'none') {
      controller.abort(new Error('no body'));
      return new Response(null, { status: response.status, headers: toWebHeaders(response.headers) });
    }
    if (body.kind === 'text') return new Response(body.text, { status: response.status, headers: toWebHeaders(response.headers) });
    if (body.kind === 'bytes') return new Response(body.data as Uint8Array<ArrayBuffer>, { status: response.status, headers: toWebHeaders(response.headers) });
    const encoder = new TextEncoder();
    let wake: (() => void) | undefined;
    let closed = false;
    let streamController!: ReadableStreamDefaultController<Uint8Array>;
    const sink: Sink = {
      write(chunk) {
        streamController.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
        return (streamController.desiredSize ?? 0) > 0;
      },
      drain() {
        return new Promise((resolve) => {
          wake = resolve;
        });
      },
      // Before a heavy render: a turn of the event loop, so the reader takes what is queued first.
      flush() {
        return new Promise((resolve) => yieldTurn(resolve));
      },
      get closed() {
        return closed;
      },
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        start(c) {
          streamController = c;
          drainTo(body.result, sink).then(
            () => {
              if (!closed) c.close();
            },
            (e: unknown) => {
              engine.logger.error({ requestId: response.requestId, ...errorFields(e) }, 'rendering failed mid-stream');
              if (!closed) c.error(e);
            },
          ).catch(() => {
            // the stream was already closed or errored; nothing is left to tell
          });
        },
        pull() {
          const w = wake;
          wake = undefined;
          w?.();
        },
        cancel(reason) {
          closed = true;
          controller.abort(reason ?? new Error('the client went away'));
          const w = wake;
          wake = undefined;
          w?.();
        },
      },
      { highWaterMark: 4 },
    );
    return new Response(stream, { status: response.status, headers: toWebHeaders(response.headers) });
  };
}
