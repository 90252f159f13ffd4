/**
 * Compiles a layout document (parsed once with parse5, with source locations)
 * into the operation tree of `ops.ts`. Every problem is reported with its
 * file, line and column; nothing here runs per request.
 */
import { parse } from 'parse5';
import type { DefaultTreeAdapterMap, ParserError } from 'parse5';
import { lineCol, ProblemList, type SourceLocation } from '../errors.ts';
import { escapeAttr, escapeText, trusted } from '../html.ts';
import {
  RESERVED_ATTRIBUTES,
  isHydrateStrategy,
  parseDuration,
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
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Static parts at least this long are UTF-8-encoded once at start-up. */
const PRE_ENCODE_MIN = 1024;

interface Scope {
  /** The joined path of the enclosing routes. */
  routePath: string | undefined;
  params: ReadonlySet<string>;
  routeNames: string;
}

/** Compiles one layout file. Problems go to `options.problems`. */
export function compileLayout(options: CompileOptions): CompiledLayout {
  const { file, problems } = options;
  const headStarts = new Set<number>();
  // `<atoll-head>` inside <head> would make the HTML parser close the head.
  // Rename it to <template> with the same length (so every source location
  // stays true) and remember where it was.
  const source = options.source.replace(/<(\/?)atoll-head(?=[\s/>])/gi, (m, slash: string, offset: number) => {
    if (slash === '') headStarts.add(offset);
    return `<${slash}template  `;
  });
  const document = parse(source, {
    sourceCodeLocationInfo: true,
    onParseError(err: ParserError) {
      const loc = { file, line: err.startLine, col: err.startCol };
      if (FATAL_PARSE_ERRORS.has(err.code)) problems.error(loc, `HTML parse error: ${err.code}`);
    },
  });

  const warned = options.warnedTags ?? new Set<string>();
  let routeCount = 0;
  let hasRoutes = false;

  const locOf = (node: Element, attr?: string): SourceLocation => {
    const l = node.sourceCodeLocation;
    const a = attr !== undefined ? l?.attrs?.[attr] : undefined;
    const at = a ?? l;
    return at ? { file, line: at.startLine, col: at.startCol } : { file };
  };
  const attrOf = (node: Element, name: string): string | undefined =>
    node.attrs.find((a) => a.name === name && a.prefix === undefined)?.value;
  const endTags = new Set<number>();
  const requireClosed = (node: Element): void => {
    const l = node.sourceCodeLocation;
    if (l?.endTag) endTags.add(l.endTag.startOffset);
    if (l && !l.endTag) {
      problems.error(locOf(node), `<${node.tagName}> is never closed: add </${node.tagName}> where its content ends`);
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

  const compileChildren = (parent: ParentNode, scope: Scope, out: Out): void => {
    const routes: RouteOp[] = [];
    const defaults: RouteOp[] = [];
    const children = parent.nodeName === 'template' ? (parent as Template).content.childNodes : parent.childNodes;
    const raw = parent.nodeName !== '#document' && RAW_TEXT.has((parent as Element).tagName);
    for (const child of children) {
      const route = compileNode(child, scope, out, raw);
      if (route) (route.pattern ? routes : defaults).push(route);
    }
    for (const d of defaults) (d as unknown as { siblings: RouteOp[] }).siblings = routes;
  };

  /** Compiles one node into `out`; returns the route op when it is a route. */
  const compileNode = (node: Node, scope: Scope, out: Out, rawParent: boolean): RouteOp | undefined => {
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
    if (tag === 'atoll-route') return compileRoute(el, scope, out);
    if (tag === 'atoll-redirect') {
      compileRedirect(el, out);
      return undefined;
    }
    if (tag.startsWith('atoll-')) {
      requireClosed(el);
      problems.error(locOf(el), `unknown Atoll tag <${tag}>: the layout language has <atoll-head>, <atoll-route> and <atoll-redirect>`);
      return undefined;
    }
    if (tag.includes('-') && el.namespaceURI === 'http://www.w3.org/1999/xhtml') {
      if (options.isElement(tag)) {
        out.op(compileElement(el, scope));
        return undefined;
      }
      if (!warned.has(tag)) {
        warned.add(tag);
        problems.warn(locOf(el), `<${tag}> is not in the element registry; it is emitted as written (a client-only element)`);
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
    compileChildren(el, scope, out);
    out.push(`</${tag}>`);
    return undefined;
  };

  const compileRoute = (el: Element, scope: Scope, out: Out): RouteOp | undefined => {
    requireClosed(el);
    hasRoutes = true;
    const path = attrOf(el, 'path');
    const isDefault = attrOf(el, 'default') !== undefined;
    const statusAttr = attrOf(el, 'status');
    let status: number | undefined;
    if (statusAttr !== undefined) {
      status = Number(statusAttr);
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        problems.error(locOf(el, 'status'), `status="${statusAttr}" is not an HTTP status code (200–599)`);
        status = undefined;
      }
    }
    if (path === undefined && !isDefault) {
      problems.error(locOf(el), '<atoll-route> needs a path="…" attribute, or default for the route that renders when no sibling matches');
    }
    if (path !== undefined && isDefault) {
      problems.error(locOf(el), '<atoll-route> has both path and default: use one of them');
    }
    let pattern: RoutePattern | undefined;
    let childScope = scope;
    if (path !== undefined && !isDefault) {
      const joined = joinPaths(scope.routePath, path);
      const hasNested = containsRoute(el);
      try {
        pattern = compilePattern(hasNested ? prefixPattern(joined) : joined);
        const params = new Set([...scope.params, ...pattern.params]);
        childScope = { routePath: joined, params, routeNames: `${scope.routeNames} ${joined}`.trim() };
      } catch (e) {
        problems.error(locOf(el, 'path'), `path="${path}" is not a valid URLPattern pathname: ${(e as Error).message}`);
      }
    }
    const inner = new Out();
    compileChildren(el, childScope, inner);
    const op: RouteOp = {
      kind: 'route',
      id: routeCount++,
      loc: locOf(el),
      pattern,
      siblings: [],
      status,
      children: inner.done(),
    };
    out.op(op);
    return isDefault || pattern ? op : undefined;
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
      problems.error(locOf(el, 'status'), `status="${statusAttr}" is not a redirect status (301, 302, 303, 307 or 308)`);
      return;
    }
    try {
      out.op({ kind: 'redirect', loc: locOf(el), from: compilePattern(from), to, status });
    } catch (e) {
      problems.error(locOf(el, 'from'), `from="${from}" is not a valid URLPattern pathname: ${(e as Error).message}`);
    }
  };

  const compileElement = (el: Element, scope: Scope): ElementOp => {
    requireClosed(el);
    const tag = el.tagName;
    const attrs: AttrTemplate[] = [];
    for (const a of el.attrs) {
      if (a.prefix !== undefined) continue;
      if (RESERVED_ATTRIBUTES.has(a.name) && a.name !== 'hydrate') continue;
      const parts = parseInterpolation(a.value);
      for (const p of parts) {
        if (typeof p !== 'string' && p.source === 'params' && !scope.params.has(p.name)) {
          const where = scope.routeNames === '' ? 'no enclosing <atoll-route>' : `the enclosing routes (${scope.routeNames}) have no :${p.name}`;
          problems.error(locOf(el, a.name), `{params.${p.name}} in ${a.name}="…" cannot be filled: ${where}`);
        }
      }
      const literal = parts.length === 0 ? '' : parts.length === 1 && typeof parts[0] === 'string' ? parts[0] : undefined;
      attrs.push({ name: a.name, literal, parts });
    }
    const hydrate = attrOf(el, 'hydrate') ?? 'visible';
    if (!isHydrateStrategy(hydrate)) {
      problems.error(locOf(el, 'hydrate'), `hydrate="${hydrate}" is not a strategy: use visible, load, idle, interaction, media:(query) or none`);
    }
    let timeout: number | undefined;
    const timeoutAttr = attrOf(el, 'timeout');
    if (timeoutAttr !== undefined) {
      timeout = parseDuration(timeoutAttr);
      if (timeout === undefined) {
        problems.error(locOf(el, 'timeout'), `timeout="${timeoutAttr}" is not a duration: use milliseconds (300) or a unit (300ms, 2s)`);
      }
    }
    let cache: number | undefined;
    const cacheAttr = attrOf(el, 'cache');
    if (cacheAttr !== undefined) {
      cache = parseDuration(cacheAttr, 's');
      if (cache === undefined) {
        problems.error(locOf(el, 'cache'), `cache="${cacheAttr}" is not a lifetime: use seconds (60) or a unit (60s, 5m, 1h)`);
      }
    }
    const ssrAttr = attrOf(el, 'ssr');
    if (ssrAttr !== undefined && ssrAttr !== 'none' && ssrAttr !== 'true' && ssrAttr !== '') {
      problems.error(locOf(el, 'ssr'), `ssr="${ssrAttr}" is not supported: use ssr="none" for a client-only element`);
    }
    const inner = new Out();
    compileChildren(el, scope, inner);
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
  compileChildren(document, { routePath: undefined, params: new Set(), routeNames: '' }, out);
  // The HTML parser drops an end tag that closes nothing without a word;
  // for Atoll's tags and microfrontends that is a mistake worth reporting.
  for (const m of source.matchAll(/<\/([a-z][a-z0-9]*-[a-z0-9._-]*)\s*>/gi)) {
    const tag = m[1]!.toLowerCase();
    if (endTags.has(m.index!) || !(tag.startsWith('atoll-') || options.isElement(tag))) continue;
    const { line, col } = lineCol(source, m.index!);
    problems.error({ file, line, col }, `</${tag}> closes nothing: there is no open <${tag}> here`);
  }
  return { file, ops: out.done(), routeCount, hasRoutes };
}

function containsRoute(el: Element): boolean {
  for (const c of el.childNodes) {
    if ('tagName' in c) {
      if (c.tagName === 'atoll-route') return true;
      if (containsRoute(c)) return true;
    }
  }
  return false;
}
