/**
 * Compiles a layout document (parsed once with parse5, with source locations)
 * into the operation tree of `ops.ts`. Every problem is reported with its
 * file, line and column; nothing here runs per request.
 */
import { Parser } from 'parse5';
import type { DefaultTreeAdapterMap, ParserError } from 'parse5';
import { ProblemList, type SiteProblem, type SourceLocation } from '../errors.ts';
import { encodeLocation, isPageStatus, REDIRECT_STATUSES } from '../header-values.ts';
import { extractLayoutTitle } from '../render/document-head.ts';
import { escapeAttr, escapeText, trusted } from '../html.ts';
import { DEFAULT_STRATEGY, HYDRATE } from '../../islands/protocol.ts';
import {
  CACHE_BOUNDS_MS,
  RESERVED_ATTRIBUTES,
  TIMEOUT_BOUNDS_MS,
  checkDuration,
  isHydrateStrategy,
  parseInterpolation,
} from './attributes.ts';
import type { AttrTemplate, CompiledLayout, ElementOp, Op, RouteOp } from './ops.ts';
import { compilePattern, joinPaths, prefixPattern, type RoutePattern } from './route-pattern.ts';

type Node = DefaultTreeAdapterMap['node'];
type ParentNode = DefaultTreeAdapterMap['parentNode'];
type Element = DefaultTreeAdapterMap['element'];
type Template = DefaultTreeAdapterMap['template'];

/** What the compiler needs to know about the rest of the site. */
export interface CompileOptions {
  /** The layout's path, as it should appear in messages. */
  file: string;
  source: string;
  /** True when `tag` is a microfrontend in the element registry. */
  isElement(tag: string): boolean;
  problems: ProblemList;
  /** Client-only tags already warned about (one warning per tag per site). */
  warnedTags?: Set<string>;
}

const VOID_ELEMENTS = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta',
  'source', 'track', 'wbr', 'basefont', 'bgsound', 'frame', 'keygen', 'param',
]);
const RAW_TEXT = new Set(['style', 'script', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext', 'noscript']);
/** parse5 errors that mean the author's markup is broken, not merely sloppy. */
const FATAL_PARSE_ERRORS = new Set([
  'end-tag-without-matching-open-element',
  'eof-in-tag',
  'eof-in-comment',
  'eof-in-cdata',
  'duplicate-attribute',
  'missing-end-tag-name',
  'eof-before-tag-name',
]);
/**
 * Static parts at least this long are UTF-8-encoded once at start-up: all of
 * them, so that a page of static parts and render-cache hits is made of
 * pieces the drain can join once and reuse (chunks.ts, RunMemo).
 */
const PRE_ENCODE_MIN = 0;

/**
 * How deeply a layout may nest elements, counting `<html>` and `<body>` (and
 * `<atoll-route>`s and microfrontends, which are elements too). Real layouts
 * nest a few dozen levels. The bound exists because everything that walks a
 * layout is proportional to its depth: parse5's scope checks walk its stack of
 * open elements for every tag (100,000 nested `<div>`s took 92 s to parse,
 * quadratic), the compiler below recurses three frames per level, and per
 * request `expand` (render/routing.ts) and csp.ts recurse over nested route
 * and element ops. With 256 levels, all of these stay far below Node's stack
 * of roughly 10,000 frames, whatever calls them, and parsing stays linear.
 */
export const MAX_LAYOUT_DEPTH = 256;
/**
 * Most attributes on one tag. parse5 checks each new attribute against all
 * earlier ones on the tag (quadratic: 40,000 attributes took 24 s); no real
 * tag has more than a few dozen.
 */
export const MAX_ATTRIBUTES = 256;
/**
 * Longest route pattern, after joining with the enclosing routes' paths (and
 * longest redirect `from`). Nested routes repeat their parents' paths, so
 * without a bound the patterns of deeply nested long paths grow
 * quadratically; no URL a person routes is this long, and a request URL may
 * be at most 8 KiB anyway.
 */
export const MAX_ROUTE_PATH = 2048;
/**
 * Longest layout, in characters: parsing costs about 2 µs a character here,
 * so a check of the largest layout still ends within seconds.
 */
export const MAX_LAYOUT_CHARS = 8 * 1024 * 1024;
/** At most this many errors (and warnings) are listed per layout; the rest are counted. */
export const MAX_PROBLEMS_PER_LAYOUT = 100;

/** Thrown inside parse5 to stop at a limit; caught in {@link parseLayout}. */
class LayoutLimit extends Error {
  constructor(
    readonly at: { startLine: number; startCol: number } | null | undefined,
    message: string,
  ) {
    super(message);
  }
}

interface TokenizerInternals {
  _leaveAttrName(): void;
  currentToken: { attrs: unknown[]; location: { startLine: number; startCol: number } | null } | null;
}

/**
 * Parses a layout with parse5, stopping at the first tag that crosses
 * {@link MAX_LAYOUT_DEPTH} or {@link MAX_ATTRIBUTES}, before its cost grows:
 * the checks sit where parse5 pushes an open element and where it adds an
 * attribute to a tag (parse5 is pinned; the limit tests in
 * test/node/layout-compile.test.ts fail if these hooks stop being called).
 */
function parseLayout(
  source: string,
  onParseError: (err: ParserError) => void,
): { document: DefaultTreeAdapterMap['document'] } | { limit: LayoutLimit } {
  const parser = new Parser<DefaultTreeAdapterMap>({ sourceCodeLocationInfo: true, onParseError });
  const stack = parser.openElements;
  const push = stack.push;
  const tokenLocation = () => (parser as unknown as { currentToken: { location?: LayoutLimit['at'] } | null }).currentToken?.location;
  stack.push = function (this: typeof stack, element, tagID) {
    if (this.stackTop + 2 > MAX_LAYOUT_DEPTH) {
      throw new LayoutLimit(
        element.sourceCodeLocation ?? tokenLocation(),
        `<${clip(element.tagName)}> is nested more than ${MAX_LAYOUT_DEPTH} elements deep (counting <html> and <body>): ` +
          `a layout may nest at most ${MAX_LAYOUT_DEPTH}; the rest of this layout was not checked`,
      );
    }
    push.call(this, element, tagID);
  };
  const tokenizer = parser.tokenizer as unknown as TokenizerInternals;
  const leaveAttrName = tokenizer._leaveAttrName;
  let token: TokenizerInternals['currentToken'] = null;
  let attributes = 0;
  // An internal of parse5's tokenizer (the one place an attribute is added to a tag).
  if (typeof leaveAttrName === 'function') {
    tokenizer._leaveAttrName = function (this: TokenizerInternals) {
      if (this.currentToken !== token) {
        token = this.currentToken;
        attributes = 0;
      }
      if (++attributes > MAX_ATTRIBUTES) {
        throw new LayoutLimit(
          token?.location,
          `this tag has more than ${MAX_ATTRIBUTES} attributes: a tag may have at most ${MAX_ATTRIBUTES}; the rest of this layout was not checked`,
        );
      }
      leaveAttrName.call(this);
    };
  }
  try {
    parser.tokenizer.write(source, true);
  } catch (e) {
    if (e instanceof LayoutLimit) return { limit: e };
    throw e;
  }
  return { document: parser.document };
}

/** 1-based line and column of offsets in `text`, each found in O(log lines). */
function lineIndex(text: string): (offset: number) => { line: number; col: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  };
}

interface Scope {
  /** The joined path of the enclosing routes. */
  routePath: string | undefined;
  params: ReadonlySet<string>;
  routeNames: string;
}

/** Compiles one layout file. Problems go to `options.problems`. */
export function compileLayout(options: CompileOptions): CompiledLayout {
  const { file } = options;
  const problems = cappedProblems(options.problems, file);
  if (options.source.length > MAX_LAYOUT_CHARS) {
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
    problems.error({ file, line: 1, col: 1 }, `the layout is ${mib(options.source.length)} long: a layout may be at most ${mib(MAX_LAYOUT_CHARS)}`);
    problems.done();
    return { file, ops: [], routeCount: 0, hasRoutes: false };
  }
  const headStarts = new Set<number>();
  // `<atoll-head>` inside <head> would make the HTML parser close the head.
  // Rename it to <template> with the same length (so every source location
  // stays true) and remember where it was.
  const source = options.source.replace(/<(\/?)atoll-head(?=[\s/>])/gi, (m, slash: string, offset: number) => {
    if (slash === '') headStarts.add(offset);
    return `<${slash}template  `;
  });
  const parsed = parseLayout(source, (err: ParserError) => {
    const loc = { file, line: err.startLine, col: err.startCol };
    if (FATAL_PARSE_ERRORS.has(err.code)) problems.error(loc, `HTML parse error: ${err.code}`);
  });
  if ('limit' in parsed) {
    const at = parsed.limit.at;
    // Listed even after many other problems: it is why the rest was not checked.
    options.problems.error(at ? { file, line: at.startLine, col: at.startCol } : { file, line: 1, col: 1 }, parsed.limit.message);
    problems.done();
    return { file, ops: [], routeCount: 0, hasRoutes: false };
  }
  const document = parsed.document;

  const warned = options.warnedTags ?? new Set<string>();
  let routeCount = 0;
  let hasRoutes = false;

  /** Where `node` (or its attribute) starts; for an element the parser made up, where its nearest written ancestor does. */
  const locOf = (node: Element, attr?: string): SourceLocation => {
    const l = node.sourceCodeLocation;
    const a = attr !== undefined ? l?.attrs?.[attr] : undefined;
    const at = a ?? l;
    if (at) return { file, line: at.startLine, col: at.startCol };
    for (let p = node.parentNode; p !== null && 'tagName' in p; p = p.parentNode) {
      if (p.sourceCodeLocation) return { file, line: p.sourceCodeLocation.startLine, col: p.sourceCodeLocation.startCol };
    }
    return { file, line: 1, col: 1 };
  };
  const attrOf = (node: Element, name: string): string | undefined =>
    node.attrs.find((a) => a.name === name && a.prefix === undefined)?.value;
  const endTags = new Set<number>();
  const requireClosed = (node: Element): void => {
    const l = node.sourceCodeLocation;
    if (l?.endTag) endTags.add(l.endTag.startOffset);
    if (l && !l.endTag) {
      problems.error(locOf(node), `<${clip(node.tagName)}> is never closed: add </${clip(node.tagName)}> where its content ends`);
    }
  };

  /** Output buffer: merges adjacent static markup into one text op. */
  class Out {
    ops: Op[] = [];
    private text = '';
    push(s: string): void {
      this.text += s;
    }
    op(op: Op): void {
      this.flush();
      this.ops.push(op);
    }
    flush(): void {
      if (this.text !== '') {
        const bytes = this.text.length >= PRE_ENCODE_MIN ? new TextEncoder().encode(this.text) : undefined;
        this.ops.push({ kind: 'text', html: trusted(this.text), bytes });
      }
      this.text = '';
    }
    done(): Op[] {
      this.flush();
      return this.ops;
    }
  }

  /**
   * Compiles `parent`'s children, which are `depth` elements deep. parse5
   * already stopped at {@link MAX_LAYOUT_DEPTH}; this check backs it up for
   * trees that its error recovery rearranged deeper than its stack was.
   */
  const compileChildren = (parent: ParentNode, scope: Scope, out: Out, depth: number): void => {
    const routes: RouteOp[] = [];
    const defaults: RouteOp[] = [];
    const children = parent.nodeName === 'template' ? (parent as Template).content.childNodes : parent.childNodes;
    const raw = parent.nodeName !== '#document' && RAW_TEXT.has((parent as Element).tagName);
    for (const child of children) {
      if (depth > MAX_LAYOUT_DEPTH && 'tagName' in child) {
        problems.error(locOf(child), `<${clip(child.tagName)}> is nested more than ${MAX_LAYOUT_DEPTH} elements deep (counting <html> and <body>): a layout may nest at most ${MAX_LAYOUT_DEPTH}`);
        continue;
      }
      const route = compileNode(child, scope, out, raw, depth);
      if (route) (route.pattern ? routes : defaults).push(route);
    }
    for (const d of defaults) (d as unknown as { siblings: RouteOp[] }).siblings = routes;
  };

  /** Compiles one node into `out`; returns the route op when it is a route. */
  const compileNode = (node: Node, scope: Scope, out: Out, rawParent: boolean, depth: number): RouteOp | undefined => {
    switch (node.nodeName) {
      case '#documentType':
        out.push(`<!doctype ${(node as DefaultTreeAdapterMap['documentType']).name || 'html'}>`);
        return undefined;
      case '#comment':
        out.push(`<!--${(node as DefaultTreeAdapterMap['commentNode']).data}-->`);
        return undefined;
      case '#text': {
        const value = (node as DefaultTreeAdapterMap['textNode']).value;
        out.push(rawParent ? value : escapeText(value));
        return undefined;
      }
    }
    const el = node as Element;
    const tag = el.tagName;
    if (tag === 'template' && el.sourceCodeLocation && headStarts.has(el.sourceCodeLocation.startOffset)) {
      out.op({ kind: 'head', loc: locOf(el) });
      return undefined;
    }
    if (tag === 'atoll-route') return compileRoute(el, scope, out, depth);
    if (tag === 'atoll-redirect') {
      compileRedirect(el, out);
      return undefined;
    }
    if (tag.startsWith('atoll-')) {
      requireClosed(el);
      problems.error(locOf(el), `unknown Atoll tag <${clip(tag)}>: the layout language has <atoll-head>, <atoll-route> and <atoll-redirect>`);
      return undefined;
    }
    if (tag.includes('-') && el.namespaceURI === 'http://www.w3.org/1999/xhtml') {
      if (options.isElement(tag)) {
        out.op(compileElement(el, scope, depth));
        return undefined;
      }
      if (!warned.has(tag)) {
        warned.add(tag);
        problems.warn(locOf(el), `<${clip(tag)}> is not in the element registry; it is emitted as written (a client-only element)`, { unknownTag: tag });
      }
    }
    // A static element.
    out.push(`<${tag}`);
    for (const a of el.attrs) {
      const name = a.prefix ? `${a.prefix}:${a.name}` : a.name;
      out.push(a.value === '' ? ` ${name}` : ` ${name}="${escapeAttr(a.value)}"`);
    }
    out.push('>');
    if (VOID_ELEMENTS.has(tag)) return undefined;
    compileChildren(el, scope, out, depth + 1);
    out.push(`</${tag}>`);
    return undefined;
  };

  /** Compiled patterns by source: a path that repeats is compiled once. */
  const patterns = new Map<string, RoutePattern>();
  /** A route pattern, or undefined after reporting why `source` is none. */
  const pattern = (el: Element, attr: string, source: string, shown: string): RoutePattern | undefined => {
    const known = patterns.get(source);
    if (known !== undefined) return known;
    if (source.length > MAX_ROUTE_PATH) {
      problems.error(locOf(el, attr), `${attr}="${clip(shown)}" is ${source.length} characters long${source === shown ? '' : ' when joined with the enclosing routes\' paths'}: a route pattern may have at most ${MAX_ROUTE_PATH}`);
      return undefined;
    }
    try {
      const compiled = compilePattern(source);
      patterns.set(source, compiled);
      return compiled;
    } catch (e) {
      problems.error(locOf(el, attr), `${attr}="${clip(shown)}" is not a valid URLPattern pathname: ${clip((e as Error).message)}`);
      return undefined;
    }
  };

  /** A pattern whose parts can overlap matches only paths up to a length (route-pattern.ts): say so. */
  const warnIfBounded = (el: Element, attr: string, compiled: RoutePattern | undefined, shown: string): void => {
    if (compiled === undefined || compiled.maxPathLength === Infinity) return;
    const joined = compiled.source === shown ? '' : ` (as ${clip(compiled.source)})`;
    problems.warn(
      locOf(el, attr),
      `${attr}="${clip(shown)}"${joined} has parts that can overlap, so matching costs a power of the path's length: ` +
        `it only matches paths of at most ${compiled.maxPathLength} characters (one parameter per segment has no such limit)`,
    );
  };

  const compileRoute = (el: Element, scope: Scope, out: Out, depth: number): RouteOp | undefined => {
    requireClosed(el);
    hasRoutes = true;
    const path = attrOf(el, 'path');
    const isDefault = attrOf(el, 'default') !== undefined;
    const statusAttr = attrOf(el, 'status');
    let status: number | undefined;
    if (statusAttr !== undefined) {
      status = Number(statusAttr);
      if (!isPageStatus(status)) {
        problems.error(locOf(el, 'status'), `status="${clip(statusAttr)}" is not a status a page can have: use 200, 203, or a registered 4xx or 5xx code such as 404 or 410`);
        status = undefined;
      }
    }
    if (path === undefined && !isDefault) {
      problems.error(locOf(el), '<atoll-route> needs a path="…" attribute, or default for the route that renders when no sibling matches');
    }
    if (path !== undefined && isDefault) {
      problems.error(locOf(el), '<atoll-route> has both path and default: use one of them');
    }
    let joined: string | undefined;
    let exact: RoutePattern | undefined;
    let childScope = scope;
    if (path !== undefined && !isDefault) {
      joined = joinPaths(scope.routePath, path);
      exact = pattern(el, 'path', joined, path);
      if (exact !== undefined) {
        const params = new Set([...scope.params, ...exact.params]);
        childScope = { routePath: joined, params, routeNames: `${scope.routeNames} ${joined}`.trim() };
      }
    }
    const routesBefore = routeCount;
    const inner = new Out();
    compileChildren(el, childScope, inner, depth + 1);
    // A route that contains routes also matches deeper paths.
    const routePattern = exact !== undefined && routeCount > routesBefore ? pattern(el, 'path', prefixPattern(joined!), path!) : exact;
    warnIfBounded(el, 'path', routePattern, path ?? '');
    const op: RouteOp = {
      kind: 'route',
      id: routeCount++,
      loc: locOf(el),
      pattern: routePattern,
      siblings: [],
      status,
      children: inner.done(),
    };
    out.op(op);
    return isDefault || routePattern ? op : undefined;
  };

  const compileRedirect = (el: Element, out: Out): void => {
    requireClosed(el);
    const from = attrOf(el, 'from');
    const to = attrOf(el, 'to');
    const statusAttr = attrOf(el, 'status') ?? '302';
    const status = Number(statusAttr);
    if (from === undefined || to === undefined) {
      problems.error(locOf(el), '<atoll-redirect> needs both from="…" and to="…"');
      return;
    }
    if (!REDIRECT_STATUSES.has(status)) {
      problems.error(locOf(el, 'status'), `status="${clip(statusAttr)}" is not a redirect status (301, 302, 303, 307 or 308)`);
      return;
    }
    const location = encodeLocation(to);
    if (location === undefined) {
      problems.error(locOf(el, 'to'), `to="${clip(to)}" cannot be a Location header: it must be a non-empty URL without control characters, at most 8 KiB`);
      return;
    }
    const fromPattern = pattern(el, 'from', from, from);
    warnIfBounded(el, 'from', fromPattern, from);
    if (fromPattern !== undefined) out.op({ kind: 'redirect', loc: locOf(el), from: fromPattern, to: location, status });
  };

  /** Reads a reserved duration attribute within `bounds`; reports and returns undefined otherwise. */
  const durationAttr = (el: Element, name: string, bounds: typeof TIMEOUT_BOUNDS_MS, bareUnit: 'ms' | 's'): number | undefined => {
    const value = attrOf(el, name);
    if (value === undefined) return undefined;
    const r = checkDuration(value, bounds, bareUnit);
    if ('ms' in r) return r.ms;
    problems.error(locOf(el, name), `${name}="${clip(value)}" ${r.error}`);
    return undefined;
  };

  const compileElement = (el: Element, scope: Scope, depth: number): ElementOp => {
    requireClosed(el);
    const tag = el.tagName;
    const attrs: AttrTemplate[] = [];
    for (const a of el.attrs) {
      if (a.prefix !== undefined) continue;
      if (RESERVED_ATTRIBUTES.has(a.name) && a.name !== 'hydrate') continue;
      const parts = parseInterpolation(a.value);
      for (const p of parts) {
        if (typeof p !== 'string' && p.source === 'params' && !scope.params.has(p.name)) {
          const where = scope.routeNames === '' ? 'no enclosing <atoll-route>' : `the enclosing routes (${clip(scope.routeNames)}) have no :${p.name}`;
          problems.error(locOf(el, a.name), `{params.${p.name}} in ${clip(a.name)}="…" cannot be filled: ${where}`);
        }
      }
      const literal = parts.length === 0 ? '' : parts.length === 1 && typeof parts[0] === 'string' ? parts[0] : undefined;
      attrs.push({ name: a.name, literal, parts });
    }
    const hydrate = attrOf(el, HYDRATE) ?? DEFAULT_STRATEGY;
    if (!isHydrateStrategy(hydrate)) {
      problems.error(locOf(el, 'hydrate'), `hydrate="${clip(hydrate)}" is not a strategy: use visible, load, idle, interaction, media:(query) or none`);
    }
    const timeout = durationAttr(el, 'timeout', TIMEOUT_BOUNDS_MS, 'ms');
    const cache = durationAttr(el, 'cache', CACHE_BOUNDS_MS, 's');
    const ssrAttr = attrOf(el, 'ssr');
    if (ssrAttr !== undefined && ssrAttr !== 'none' && ssrAttr !== 'true' && ssrAttr !== '') {
      problems.error(locOf(el, 'ssr'), `ssr="${clip(ssrAttr)}" is not supported: use ssr="none" for a client-only element`);
    }
    const inner = new Out();
    compileChildren(el, scope, inner, depth + 1);
    return {
      kind: 'element',
      tag,
      loc: locOf(el),
      attrs,
      children: inner.done(),
      hydrate,
      timeout,
      primary: attrOf(el, 'primary') !== undefined,
      cache,
      ssr: ssrAttr !== 'none',
    };
  };

  const out = new Out();
  compileChildren(document, { routePath: undefined, params: new Set(), routeNames: '' }, out, 1);
  // The HTML parser drops an end tag that closes nothing without a word;
  // for Atoll's tags and microfrontends that is a mistake worth reporting.
  const position = lineIndex(source);
  for (const m of source.matchAll(/<\/([a-z][a-z0-9]*-[a-z0-9._-]*)\s*>/gi)) {
    const tag = m[1]!.toLowerCase();
    if (endTags.has(m.index!) || !(tag.startsWith('atoll-') || options.isElement(tag))) continue;
    problems.error({ file, ...position(m.index!) }, `</${clip(tag)}> closes nothing: there is no open <${clip(tag)}> here`);
  }
  problems.done();
  const ops = out.done();
  extractLayoutTitle(ops);
  return { file, ops, routeCount, hasRoutes };
}

/** A value from the layout, shortened for a message. */
function clip(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** A message on one line: control characters (a newline in an attribute value, …) escaped. */
function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Errors and warnings of one layout, at most {@link MAX_PROBLEMS_PER_LAYOUT} of each listed. */
function cappedProblems(problems: ProblemList, file: string) {
  const counts = { error: 0, warn: 0 };
  const firstHidden: { error?: SourceLocation; warn?: SourceLocation } = {};
  const add = (kind: 'error' | 'warn', loc: SourceLocation, message: string, detail: Pick<SiteProblem, 'unknownTag'> = {}): void => {
    if (++counts[kind] <= MAX_PROBLEMS_PER_LAYOUT) {
      if (kind === 'warn') problems.warn(loc, oneLine(message), detail);
      else problems.error(loc, oneLine(message));
    } else firstHidden[kind] ??= loc;
  };
  return {
    error: (loc: SourceLocation, message: string) => add('error', loc, message),
    warn: (loc: SourceLocation, message: string, detail?: Pick<SiteProblem, 'unknownTag'>) => add('warn', loc, message, detail),
    /** Adds one line for each kind that was cut, at the first problem not listed. */
    done(): void {
      for (const kind of ['error', 'warn'] as const) {
        const hidden = counts[kind] - MAX_PROBLEMS_PER_LAYOUT;
        if (hidden > 0) {
          const what = kind === 'error' ? 'problem' : 'warning';
          problems[kind](firstHidden[kind] ?? { file }, `and ${hidden} more ${what}${hidden === 1 ? '' : 's'} in this layout, the first of them here (at most ${MAX_PROBLEMS_PER_LAYOUT} are listed)`);
        }
      }
    },
  };
}
