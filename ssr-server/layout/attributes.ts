/**
 * The reserved attributes of microfrontend tags (SPEC 1) and the
 * `{params.x}` / `{query.x}` interpolation in attribute values.
 */
import type { AttrPart } from './ops.ts';

/** Attributes the server consumes; `hydrate` is kept for the loader. */
export const RESERVED_ATTRIBUTES = new Set(['hydrate', 'timeout', 'primary', 'cache', 'ssr']);

const holeRe = /\{(params|query)\.([A-Za-z_$][\w$-]*)\}/g;

/** Splits an attribute value into literal text and per-request references. */
export function parseInterpolation(value: string): AttrPart[] {
  const parts: AttrPart[] = [];
  let last = 0;
  for (const m of value.matchAll(holeRe)) {
    if (m.index! > last) parts.push(value.slice(last, m.index));
    parts.push({ source: m[1] as 'params' | 'query', name: m[2]! });
    last = m.index! + m[0].length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return parts;
}

/** Fills an interpolated value. Missing values become the empty string. */
export function fillInterpolation(
  parts: readonly AttrPart[],
  params: Readonly<Record<string, string>>,
  query: URLSearchParams,
): string {
  let s = '';
  for (const p of parts) {
    if (typeof p === 'string') s += p;
    else if (p.source === 'params') s += params[p.name] ?? '';
    else s += query.get(p.name) ?? '';
  }
  return s;
}

const strategies = new Set(['visible', 'load', 'idle', 'interaction', 'none']);

/** True for a valid `hydrate` value: a known strategy or `media:(query)`. */
export function isHydrateStrategy(value: string): boolean {
  return strategies.has(value) || /^media:.+/.test(value);
}

/**
 * Parses a duration such as `300`, `300ms`, `2s`, `5m`, `1h` into
 * milliseconds; undefined when it is not one. A bare number is in
 * `bareUnit` (milliseconds for timeouts, seconds for cache lifetimes).
 */
export function parseDuration(value: string, bareUnit: 'ms' | 's' = 'ms'): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? bareUnit;
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}
