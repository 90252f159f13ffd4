/**
 * Route patterns in URLPattern pathname syntax (`:name`, `*`, `{…}?` groups),
 * matched with the URLPattern polyfill where the runtime has none.
 */
import { URLPattern as URLPatternPolyfill } from 'urlpattern-polyfill';

type URLPatternLike = {
  exec(input: { pathname: string }): { pathname: { groups: Record<string, string | undefined> } } | null;
};
const URLPatternImpl: new (init: { pathname: string }) => URLPatternLike =
  (globalThis as { URLPattern?: new (init: { pathname: string }) => URLPatternLike }).URLPattern ??
  (URLPatternPolyfill as unknown as new (init: { pathname: string }) => URLPatternLike);

/** A compiled pathname pattern. */
export interface RoutePattern {
  /** The full pathname pattern, after joining with enclosing routes. */
  source: string;
  /** Named parameters (`:name`) the pattern supplies. */
  params: ReadonlySet<string>;
  /** Returns the parameters when the pathname matches, else undefined. */
  match(pathname: string): Record<string, string> | undefined;
}

const paramNameRe = /:([A-Za-z_$][\w$]*)/g;

/**
 * Compiles a pathname pattern. Throws with the URLPattern message when the
 * syntax is invalid.
 */
export function compilePattern(source: string): RoutePattern {
  const pattern = new URLPatternImpl({ pathname: source });
  const params = new Set<string>();
  for (const m of source.matchAll(paramNameRe)) params.add(m[1]!);
  return {
    source,
    params,
    match(pathname) {
      const r = pattern.exec({ pathname });
      if (r === null) return undefined;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.pathname.groups)) {
        if (v !== undefined) out[k] = decodeSegment(v);
      }
      return out;
    },
  };
}

/**
 * Joins a nested route's path to its parent's: child paths are relative to the
 * parent route (`/products` + `:id` or `/:id` → `/products/:id`).
 */
export function joinPaths(parent: string | undefined, child: string): string {
  if (parent === undefined) return child.startsWith('/') ? child : `/${child}`;
  const base = parent.replace(/(\{\/\*\}\?|\/\*|\*|\/)$/, '');
  const rest = child.replace(/^\//, '');
  return rest === '' ? base || '/' : `${base}/${rest}`;
}

/** A pattern that also matches any deeper path (for routes with nested routes). */
export function prefixPattern(path: string): string {
  if (path.endsWith('*')) return path;
  return path === '/' ? '/*' : `${path}{/*}?`;
}

/** Percent-decodes a matched value; keeps it as is when it is malformed. */
function decodeSegment(v: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
