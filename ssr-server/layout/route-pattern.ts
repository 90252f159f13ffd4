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
  /**
   * Longest pathname this pattern is tried on; longer ones do not match.
   * Infinity unless parts of the pattern can overlap (see {@link overlapDegree}).
   */
  maxPathLength: number;
  /** Returns the parameters when the pathname matches, else undefined. */
  match(pathname: string): Record<string, string> | undefined;
}

/**
 * About how many backtracking steps one match may take (some 10 ms here).
 * URLPattern compiles to a backtracking regular expression, and a pattern
 * whose variable parts can overlap — two parameters in one segment
 * (`/:from-:to`), two wildcards in one pattern, a wildcard and a parameter in one
 * segment — costs about (pathname length)^(overlapping parts) on a path that
 * almost matches: `/:a-:b-:c-:d-:e/z` against an 8 KiB path of `a-a-…` ran
 * for minutes. A request picks the path, so such patterns only see
 * pathnames short enough to keep that product under this budget.
 */
export const MATCH_STEP_BUDGET = 2_000_000;

/**
 * How many variable parts of `source` can overlap, an upper estimate of the
 * degree of its worst-case matching cost. Parameters (`:name`) are counted
 * per segment; wildcards (`*`), repeated parts (`+`, `*` modifiers) and
 * regular-expression groups can span segments and are counted across the
 * whole pattern. What a regular-expression group does inside is the
 * author's: nested repetition such as `:x((?:a|a)+)` is exponential in the
 * path's length and no length bound here makes it safe.
 */
export function overlapDegree(source: string): number {
  let spanning = 0;
  let inSegment = 0;
  let maxInSegment = 0;
  /** After a part ending at `i`: a `+` or `*` modifier makes it repeatable across segments. */
  const endPart = (i: number): number => {
    if (source[i + 1] !== '+' && source[i + 1] !== '*') return i;
    spanning++;
    return i + 1;
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (c === '/') {
      inSegment = 0;
    } else if (c === ':' && /[A-Za-z_$]/.test(source[i + 1] ?? '')) {
      i++;
      while (i + 1 < source.length && /[\w$]/.test(source[i + 1]!)) i++;
      maxInSegment = Math.max(maxInSegment, ++inSegment);
      if (source[i + 1] === '(') {
        i = skipGroup(source, i + 1);
        spanning++;
      }
      i = endPart(i);
    } else if (c === '(') {
      i = skipGroup(source, i);
      spanning++;
      maxInSegment = Math.max(maxInSegment, ++inSegment);
      i = endPart(i);
    } else if (c === '*') {
      spanning++;
      maxInSegment = Math.max(maxInSegment, ++inSegment);
      i = endPart(i);
    } else if (c === '}') {
      i = endPart(i);
    }
  }
  return spanning > 0 && maxInSegment > 1 ? spanning + maxInSegment : Math.max(spanning, maxInSegment);
}

/** The index of the `)` that closes the group opening at `open`. */
function skipGroup(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return i;
  }
  return source.length;
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
  const degree = overlapDegree(source);
  const maxPathLength = degree <= 1 ? Infinity : Math.floor(MATCH_STEP_BUDGET ** (1 / degree));
  const exec = (pathname: string): Readonly<Record<string, string>> | null => {
    if (pathname.length > maxPathLength) return null;
    // The URLPattern polyfill reads a leading `//` as an authority (`//evil.example/plain`
    // would match `/plain`): such a path is not the route's path.
    if (pathname.startsWith('//')) return null;
    const r = pattern.exec({ pathname });
    if (r === null) return null;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.pathname.groups)) {
      if (v !== undefined) out[k] = decodeSegment(v);
    }
    return out;
  };
  // The polyfill's exec is most of routing's cost; a page's paths repeat, so recent answers are kept.
  const recent = new Map<string, Readonly<Record<string, string>> | null>();
  return {
    source,
    params,
    maxPathLength,
    match(pathname) {
      let r = recent.get(pathname);
      if (r === undefined) {
        r = exec(pathname);
        if (pathname.length <= MEMO_MAX_PATH) {
          if (recent.size >= MEMO_ENTRIES) recent.delete(recent.keys().next().value!);
          recent.set(pathname, r);
        }
      }
      // A copy: callers hand parameters to hooks, which may change them.
      return r === null ? undefined : { ...r };
    },
  };
}

/** Pathnames whose match each pattern remembers (oldest out first), and the longest one remembered. */
const MEMO_ENTRIES = 256;
const MEMO_MAX_PATH = 512;

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
