/**
 * Routing for one request: walks the compiled layout's ops, matching routes
 * and redirects, filling interpolated attributes, and turning every element
 * in a matched route into an {@link ElementWork} whose output is a thunk in
 * the page body. Nothing here waits.
 */
import { escapeAttr, escapeText } from '../html.ts';
import { fillInterpolation } from '../layout/attributes.ts';
import type { CompiledLayout, ElementOp, HeadOp, Op, RouteOp, TextOp } from '../layout/ops.ts';
import { headSources, mergeHead, NO_ORIGIN } from './document-head.ts';
import type { Output, Piece } from './chunks.ts';
import { elementThunk } from './render-cost.ts';
import type { PageEnvironment, PageRequest } from './context.ts';
import { ElementWork, type PageScope } from './element-work.ts';
import { withHostAttribute } from './element.ts';
import { instanceKey, type PageNavigation } from './navigation.ts';
import { KEEP_ATTR, KEY_ATTR } from '../../islands/protocol.ts';

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
  /** True once the drain was told to send what it had before an element render (see {@link elementThunk}). */
  sentBeforeRender = false;
  /** How many instances the browser keeps (written as placeholders, their work never started). */
  kept = 0;
  private headers: Headers | undefined;

  constructor(
    readonly env: PageEnvironment,
    readonly request: PageRequest,
    readonly layout: CompiledLayout,
    /** Client navigation for this page (navigation.ts); undefined: off — no keys, nothing kept. */
    readonly nav?: PageNavigation,
  ) {
    this.matches = new Array(layout.routeCount);
  }

  allowedHeaders(): Headers {
    if (this.headers !== undefined) return this.headers;
    const allowed = this.env.site.config.requestHeaders ?? ['accept-language', 'user-agent'];
    const h = new Headers();
    for (const name of allowed) {
      const v = this.request.headers.get(name);
      try {
        if (v !== null) h.set(name, v);
      } catch {
        // A value Headers refuses (the adapter checked none of them) is one the element does not see.
      }
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
   * `nesting`: the microfrontend these ops are the light DOM of, if any.
   */
  expand(ops: readonly Op[], params: Readonly<Record<string, string>>, out: Output, nesting?: Nesting): void {
    for (const op of ops) {
      switch (op.kind) {
        case 'text':
          if (nesting !== undefined) follow(nesting, op);
          out.push(op.bytes ?? op.html);
          break;
        case 'head':
          out.push(() => [this.documentHead(op), this.headPiece()]);
          break;
        case 'element':
          this.expandElement(op, params, out, nesting);
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
          // Route tags are not emitted: their children are the enclosing element's children.
          if (routeParams !== null) {
            // Which routes matched inside a microfrontend is part of its key (its light DOM differs).
            nesting?.keys?.push(`r${op.id}`);
            this.expand(op.children, routeParams, out, nesting);
          }
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

  /**
   * The merged `head()` contributions and the layout's title (document-head.ts,
   * docs/seo.md). Runs when the head is written: the primaries have settled.
   */
  private documentHead(op: HeadOp): string {
    // No element on the page contributes: the layout's own title and metas, made once.
    if (this.elements.every((e) => e.def.hooks.head === undefined)) {
      let html = layoutHeads.get(op);
      if (html === undefined) layoutHeads.set(op, (html = mergeHead([], op.title, NO_ORIGIN, () => {})));
      return html;
    }
    try {
      const base = new URL(this.request.url.pathname + this.request.url.search, this.env.site.config.publicOrigin ?? NO_ORIGIN).href;
      const sources = headSources(
        this.elements.map((e) => ({
          tag: e.op.tag,
          primary: e.op.primary,
          line: e.op.loc.line ?? 0,
          col: e.op.loc.col ?? 0,
          hook: e.def.hooks.head,
          data: e.outcome === undefined ? 'pending' : e.outcome.kind === 'ok' ? e.outcome.props : 'failed',
          context: () => e.context(),
        })),
      );
      return mergeHead(sources, op.title, base, (fields, message) => this.env.logger.error({ requestId: this.request.requestId, ...fields }, message));
    } catch (err) {
      try {
        this.env.logger.error({ requestId: this.request.requestId, message: String((err as Error)?.message ?? err).slice(0, 200) }, 'the document head merge failed; the page has only the layout\'s head');
      } catch {
        // nothing more to do
      }
      return op.title === undefined ? '' : `<title>${escapeText(op.title.text)}</title>`;
    }
  }

  /**
   * `<atoll-head>`'s markup, as bytes encoded once when it is the same for
   * every page of its kind (no nonce, no first script: the head renderer
   * then answers with the same string, found here by identity and hash).
   */
  private headPiece(): Piece {
    const html = this.head();
    if (this.request.nonce || this.request.headScript !== undefined || html.length < 256) return html;
    let bytes = encodedHeads.get(html);
    if (bytes === undefined) {
      if (encodedHeads.size >= 64) encodedHeads.delete(encodedHeads.keys().next().value!);
      encodedHeads.set(html, (bytes = new TextEncoder().encode(html)));
    }
    return bytes;
  }

  /** `<atoll-head>`'s markup; a failure there costs the head's extras, not the page. */
  private head(): string {
    try {
      if (this.env.head !== undefined) return this.env.head(this.elements, this.request);
      // No client build: only the in-process caller's first script, if any.
      const { headScript, nonce } = this.request;
      return headScript === undefined ? '' : `<script${nonce ? ` nonce="${escapeAttr(nonce)}"` : ''}>${headScript}</script>`;
    } catch (err) {
      try {
        this.env.logger.error({ requestId: this.request.requestId, message: String((err as Error)?.message ?? err) }, '<atoll-head> failed; the page has no island loader');
      } catch {
        // nothing more to do
      }
      return '';
    }
  }

  private expandElement(op: ElementOp, params: Readonly<Record<string, string>>, out: Output, nesting: Nesting | undefined): void {
    const def = this.env.site.registry.get(op.tag)!;
    const query = this.request.url.searchParams;
    const attributes: Array<readonly [string, string]> = op.attrs.map((a) => [
      a.name,
      a.literal ?? fillInterpolation(a.parts, params, query),
    ]);
    const children: Output = [];
    let slot: string | undefined;
    if (nesting !== undefined) {
      nesting.parent.hasNested = true;
      // A direct child is assigned by its own `slot`; one inside plain markup by that markup's outermost element's.
      slot = nesting.open.length > 0 ? nesting.open[0]!.slot : attributes.find(([name]) => name === 'slot')?.[1];
    }
    const work = new ElementWork(op, def, attributes, params, children, this, nesting?.parent, slot);
    const nav = this.nav;
    if (nav === undefined) {
      this.expand(op.children, params, children, { parent: work, open: [] });
      // Nested elements come first in `elements` (as they always have); `depth`/`parent` give the nesting.
      this.elements.push(work);
      out.push(elementThunk(work, this));
      return;
    }
    // With navigation: the key needs what is nested (expanded first); nothing has started yet, so a
    // kept instance's work — and that of everything nested in it — is simply dropped.
    const mark = this.elements.length;
    const inner: Nesting = { parent: work, open: [], keys: [], pinned: false };
    this.expand(op.children, params, children, inner);
    const key = instanceKey(nav.layoutKey, op, attributes, params, inner.keys!);
    // A primary decides the status, a head() hook the document head: never kept, nor anything around them.
    const pinned = inner.pinned === true || op.primary || def.hooks.head !== undefined;
    if (nesting?.keys !== undefined) {
      nesting.keys.push(key);
      if (pinned) nesting.pinned = true;
    }
    if (!pinned && nav.keep !== undefined && nav.keep.has(key)) {
      this.elements.length = mark;
      this.kept++;
      out.push(`<${op.tag} ${KEEP_ATTR}="${key}"></${op.tag}>`);
      return;
    }
    this.elements.push(work);
    out.push(keyedThunk(elementThunk(work, this), op, key));
  }

  /** Ends all pending work (client gone, or the page was answered otherwise). */
  close(reason: unknown): void {
    this.closed = true;
    for (const el of this.elements) el.abort(reason);
  }
}

/** The document head of a layout's pages where no element has a `head()` hook. */
const layoutHeads = new WeakMap<HeadOp, string>();

/** Heads without a nonce, encoded (the last 64). */
const encodedHeads = new Map<string, Uint8Array>();

/**
 * Where the expansion is inside a microfrontend's light DOM: the element,
 * and the plain (static) elements of the layout that are open between it
 * and here. Lit assigns a nested element to the slot named by the `slot`
 * attribute of its ancestor that is a direct child of the microfrontend
 * (`slotted-element-open`), so that is all the event path needs.
 */
export interface Nesting {
  parent: ElementWork;
  open: Array<{ tag: string; slot: string | undefined }>;
  /** With navigation: the keys of the instances nested here and the routes that matched here (`r<id>`), in document order. */
  keys?: string[];
  /** With navigation: true when a primary or `head()` element is nested here (the parent cannot be kept). */
  pinned?: boolean;
}

/** Each op's key attribute as bytes, for the last key it had (a pre-encoded host stays pre-encoded). */
const keyAttrBytes = new WeakMap<ElementOp, { key: string; attr: string; bytes: Uint8Array }>();
const encoder = new TextEncoder();

/** An element's thunk whose host carries its instance key ({@link KEY_ATTR}); the drain's hint passes through. */
function keyedThunk(thunk: ReturnType<typeof elementThunk>, op: ElementOp, key: string): ReturnType<typeof elementThunk> {
  let known = keyAttrBytes.get(op);
  if (known === undefined || known.key !== key) {
    const text = ` ${KEY_ATTR}="${key}"`;
    keyAttrBytes.set(op, (known = { key, attr: text, bytes: encoder.encode(text) }));
  }
  const { attr, bytes } = known;
  const keyed: ReturnType<typeof elementThunk> = () => {
    const out = thunk();
    return Array.isArray(out) ? withHostAttribute(out, op.tag, attr, bytes) : out;
  };
  keyed.blocks = thunk.blocks;
  return keyed;
}

/** A static tag in a text op, as the layout compiler wrote it. */
type Tag = { open: string; slot: string | undefined } | { close: string };

const VOID = new Set(['area', 'base', 'basefont', 'bgsound', 'br', 'col', 'embed', 'frame', 'hr', 'img', 'input', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const RAW = new Set(['style', 'script', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext', 'noscript']);
// The compiler writes `<tag name="escaped value" bare>`, `</tag>`, `<!--…-->`, `<!doctype …>`; text is escaped (no raw `<`) except in raw-text elements.
const TAG_RE = /<(?:!--[\s\S]*?-->|![^>]*>|\/([^\s/>]+)\s*>|([a-zA-Z][^\s/>]*)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*\/?>)/y;
const SLOT_RE = /(?:^|\s)slot(?:="([^"]*)")?(?=\s|$)/;
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescape = (s: string): string => s.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!);

/** The tags of each text op inside a microfrontend, found once per op. */
const tagsOfText = new WeakMap<TextOp, readonly Tag[]>();

function tagsOf(op: TextOp): readonly Tag[] {
  let tags = tagsOfText.get(op);
  if (tags !== undefined) return tags;
  const found: Tag[] = [];
  const html: string = op.html;
  let i = html.indexOf('<');
  while (i >= 0 && i < html.length) {
    TAG_RE.lastIndex = i;
    const m = TAG_RE.exec(html);
    if (m === null) {
      i = html.indexOf('<', i + 1);
      continue;
    }
    i = TAG_RE.lastIndex;
    if (m[1] !== undefined) found.push({ close: m[1] });
    else if (m[2] !== undefined) {
      const name = m[2];
      const lower = name.toLowerCase();
      if (VOID.has(lower)) {
        // no end tag
      } else if (RAW.has(lower)) {
        // Raw text: no tags inside, up to its end tag (in this same op: no op can be inside it).
        const end = html.toLowerCase().indexOf(`</${lower}`, i);
        i = end < 0 ? html.length : end;
        found.push({ open: name, slot: undefined });
      } else {
        const slot = SLOT_RE.exec(m[3] ?? '');
        found.push({ open: name, slot: slot === null ? undefined : unescape(slot[1] ?? '') });
      }
    }
    i = html.indexOf('<', i);
  }
  tags = found;
  tagsOfText.set(op, tags);
  return tags;
}

/** Moves `nesting` past a text op: the plain elements it opens and closes. */
function follow(nesting: Nesting, op: TextOp): void {
  const open = nesting.open;
  for (const t of tagsOf(op)) {
    if ('open' in t) open.push({ tag: t.open, slot: t.slot });
    else {
      let k = open.length - 1;
      while (k >= 0 && open[k]!.tag !== t.close) k--;
      if (k >= 0) open.length = k;
    }
  }
}
