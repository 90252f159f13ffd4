/**
 * An endpoint of the request pipeline: which paths and methods it answers,
 * and how. The dispatcher (`handle.ts`) walks a table of them and is the
 * one error boundary around every `respond`.
 */
import type { Engine } from './engine.ts';
import type { CoreRequest, CoreResponse } from './wire.ts';

/** A request once the dispatcher has parsed and identified it. */
export interface EndpointRequest extends CoreRequest {
  /** The parsed target (against a placeholder origin: only the path and query are real). */
  url: URL;
  requestId: string;
  /** `performance.now()` when the request arrived. */
  started: number;
}

/** One row of the dispatcher's table. */
export interface Endpoint {
  /** For log lines. */
  readonly name: string;
  /** The methods answered; any other gets 405 with `Allow`. */
  readonly methods: readonly string[];
  /** True when this endpoint answers `pathname` (of this engine's site). */
  match(pathname: string, engine: Engine): boolean;
  /** Answers a request. May throw or reject: the dispatcher turns that into a 500. */
  respond(engine: Engine, req: EndpointRequest): CoreResponse | Promise<CoreResponse>;
}
