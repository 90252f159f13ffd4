/**
 * The compiled form of a layout: a tree of typed operations, built once at
 * start-up and interpreted per request by `render/page.ts`. Static markup is
 * pre-serialized into `text` operations, so a request only walks the dynamic
 * parts.
 *
 * The tree is at most `MAX_LAYOUT_DEPTH` (256, compile.ts) operations deep,
 * since every route and element op is an element of the layout and the
 * compiler refuses deeper layouts: code that recurses over `children` (the
 * per-request expansion, csp.ts) may rely on that bound.
 */
import type { SourceLocation } from '../errors.ts';
import type { LayoutTitle } from '../render/document-head.ts';
import type { Html } from '../html.ts';
import type { RoutePattern } from './route-pattern.ts';

/** A piece of an attribute value: literal text or a per-request reference. */
export type AttrPart = string | { source: 'params' | 'query'; name: string };

/** An attribute of a microfrontend tag, possibly with `{params.x}` holes. */
export interface AttrTemplate {
  name: string;
  /** The literal value when it has no holes (the common case). */
  literal: string | undefined;
  parts: readonly AttrPart[];
}

/** How the browser loader should hydrate an island (SPEC 5). */
export type HydrateStrategy = string;

/** Static markup, already serialized. */
export interface TextOp {
  kind: 'text';
  html: Html;
  /** The markup encoded once at start-up (never re-encoded per request). */
  bytes: Uint8Array | undefined;
}

/** `<atoll-head>`: import map, preloads, loader and styles for this page. */
export interface HeadOp {
  kind: 'head';
  loc: SourceLocation;
  /** The layout's `<title>` (taken out of the static markup; the head merge writes the one title). */
  title?: LayoutTitle | undefined;
}

/** A microfrontend: an element known to the registry. */
export interface ElementOp {
  kind: 'element';
  tag: string;
  loc: SourceLocation;
  /** Attributes passed to the element (reserved ones removed, except `hydrate`). */
  attrs: readonly AttrTemplate[];
  /** The light-DOM children: slotted content, and the fallback on failure. */
  children: readonly Op[];
  hydrate: HydrateStrategy;
  /** Milliseconds, from the `timeout` attribute; undefined means the default. */
  timeout: number | undefined;
  primary: boolean;
  /** Render-cache lifetime in ms, from the `cache` attribute; undefined means the registry's. */
  cache: number | undefined;
  /** False for `ssr="none"`: emitted as written, rendered by the browser. */
  ssr: boolean;
}

/** `<atoll-route path>` or `<atoll-route default>`. */
export interface RouteOp {
  kind: 'route';
  id: number;
  loc: SourceLocation;
  /** Undefined for a default route. */
  pattern: RoutePattern | undefined;
  /** For a default route: the non-default routes among its siblings. */
  siblings: readonly RouteOp[];
  status: number | undefined;
  children: readonly Op[];
}

/** `<atoll-redirect from to status>`. */
export interface RedirectOp {
  kind: 'redirect';
  loc: SourceLocation;
  from: RoutePattern;
  to: string;
  status: number;
}

/** One compiled layout operation. */
export type Op = TextOp | HeadOp | ElementOp | RouteOp | RedirectOp;

/** A layout compiled from one file. */
export interface CompiledLayout {
  file: string;
  ops: readonly Op[];
  /** Number of route operations (their ids are 0..routeCount-1). */
  routeCount: number;
  /** True when the layout has any route: then an unmatched path is a 404. */
  hasRoutes: boolean;
}
