/**
 * Routing for one request: walks the compiled layout's ops, matching routes
 * and redirects, filling interpolated attributes, and turning every element
 * in a matched route into an {@link ElementWork} whose output is a thunk in
 * the page body. Nothing here waits.
 */
import { fillInterpolation } from '../layout/attributes.ts';
import type { CompiledLayout, ElementOp, Op, RouteOp } from '../layout/ops.ts';
import type { Output } from './chunks.ts';
import type { PageEnvironment, PageRequest } from './context.ts';
import { ElementWork, type PageScope } from './element-work.ts';

/** The state of one page render. */
export class PageRun implements PageScope {
  readonly elements: ElementWork[] = [];
  /** Route matches by route id: undefined = not computed, null = no match. */
  private readonly matches: Array<Record<string, string> | null | undefined>;
  /** The first `<atoll-redirect>` that matched. */
  redirect: { status: number; location: string } | undefined;
  /** The status of the `default` route that rendered. */
  status: number | undefined;
  matchedAnyRoute = false;
  closed = false;
  private headers: Headers | undefined;

  constructor(
    readonly env: PageEnvironment,
    readonly request: PageRequest,
    readonly layout: CompiledLayout,
  ) {
    this.matches = new Array(layout.routeCount);
  }

  allowedHeaders(): Headers {
    if (this.headers !== undefined) return this.headers;
    const allowed = this.env.site.config.requestHeaders ?? ['accept-language', 'user-agent'];
    const h = new Headers();
    for (const name of allowed) {
      const v = this.request.headers.get(name);
      if (v !== null) h.set(name, v);
    }
    return (this.headers = h);
  }

  private match(route: RouteOp): Record<string, string> | null {
    let m = this.matches[route.id];
    if (m === undefined) {
      m = route.pattern?.match(this.request.url.pathname) ?? null;
      this.matches[route.id] = m;
    }
    return m;
  }

  /**
   * Expands ops for this request into output, collecting element work. The
   * recursion follows the layout's nesting, which the compiler bounds.
   */
  expand(ops: readonly Op[], params: Readonly<Record<string, string>>, out: Output): void {
    for (const op of ops) {
      switch (op.kind) {
        case 'text':
          out.push(op.bytes ?? op.html);
          break;
        case 'head':
          out.push(() => this.head());
          break;
        case 'element':
          this.expandElement(op, params, out);
          break;
        case 'route': {
          let routeParams: Readonly<Record<string, string>> | null;
          if (op.pattern !== undefined) {
            routeParams = this.match(op);
            if (routeParams !== null) this.matchedAnyRoute = true;
          } else {
            routeParams = op.siblings.some((s) => this.match(s) !== null) ? null : params;
            if (routeParams !== null) {
              this.matchedAnyRoute = true;
              if (op.status !== undefined && this.status === undefined) this.status = op.status;
            }
          }
          if (routeParams !== null) this.expand(op.children, routeParams, out);
          break;
        }
        case 'redirect':
          if (this.redirect === undefined && op.from.match(this.request.url.pathname) !== undefined) {
            this.redirect = { status: op.status, location: op.to };
          }
          break;
        default: {
          const impossible: never = op;
          throw new Error(`internal error: unknown layout operation ${JSON.stringify(impossible)}`);
        }
      }
    }
  }

  /** `<atoll-head>`'s markup; a failure there costs the head's extras, not the page. */
  private head(): string {
    try {
      return this.env.head?.(this.elements, this.request) ?? '';
    } catch (err) {
      try {
        this.env.logger.error({ requestId: this.request.requestId, message: String((err as Error)?.message ?? err) }, '<atoll-head> failed; the page has no island loader');
      } catch {
        // nothing more to do
      }
      return '';
    }
  }

  private expandElement(op: ElementOp, params: Readonly<Record<string, string>>, out: Output): void {
    const def = this.env.site.registry.get(op.tag)!;
    const query = this.request.url.searchParams;
    const attributes: Array<readonly [string, string]> = op.attrs.map((a) => [
      a.name,
      a.literal ?? fillInterpolation(a.parts, params, query),
    ]);
    const children: Output = [];
    this.expand(op.children, params, children);
    const work = new ElementWork(op, def, attributes, params, children, this);
    this.elements.push(work);
    out.push(() => work.render());
  }

  /** Ends all pending work (client gone, or the page was answered otherwise). */
  close(reason: unknown): void {
    this.closed = true;
    for (const el of this.elements) el.abort(reason);
  }
}
