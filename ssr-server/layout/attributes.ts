/**
 * The reserved attributes of microfrontend tags (SPEC 1) and the
 * `{params.x}` / `{query.x}` interpolation in attribute values.
 */
import { isHydrateValue } from '../../islands/protocol.ts';
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

/**
 * True for a valid `hydrate` value: a known strategy or `media:(query)` —
 * the rule of `islands/protocol.ts`, the module the browser side reads too.
 */
export const isHydrateStrategy = isHydrateValue;

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A closed range of milliseconds that a duration must fall in. */
export interface DurationBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * Element timeouts (`timeout="…"`, and the config's): at least 1 ms, since 0
 * would fail every request at once, and at most 10 minutes — far beyond any
 * useful wait, and far below 2^31 ms, where `setTimeout` overflows and fires
 * at once.
 */
export const TIMEOUT_BOUNDS_MS: DurationBounds = Object.freeze({ min: 1, max: 10 * MINUTE_MS });

/**
 * Render-cache lifetimes (`cache="…"`, and the config's): at least 1 s (the
 * unit of a bare number, and below it caching only costs), at most 365 days.
 */
export const CACHE_BOUNDS_MS: DurationBounds = Object.freeze({ min: SECOND_MS, max: 365 * DAY_MS });

/** Longer than this, a string is not read as a duration at all. */
const MAX_DURATION_TEXT = 64;
const durationRe = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** Milliseconds of a duration string (possibly Infinity), or undefined. */
function durationMs(value: string, bareUnit: 'ms' | 's'): number | undefined {
  if (value.length > MAX_DURATION_TEXT) return undefined;
  const m = durationRe.exec(value.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? bareUnit;
  const factor = unit === 'ms' ? 1 : unit === 's' ? SECOND_MS : unit === 'm' ? MINUTE_MS : HOUR_MS;
  return Math.round(n * factor);
}

/**
 * Parses a duration such as `300`, `300ms`, `2s`, `5m`, `1h` into
 * milliseconds; undefined when it is not one. A bare number is in
 * `bareUnit` (milliseconds for timeouts, seconds for cache lifetimes).
 * No bounds are applied: use {@link checkDuration} for values from a site.
 */
export function parseDuration(value: string, bareUnit: 'ms' | 's' = 'ms'): number | undefined {
  const ms = durationMs(value, bareUnit);
  return ms !== undefined && Number.isFinite(ms) ? ms : undefined;
}

/** `90 s`, `10 minutes`, `365 days`: a bound as people say it. */
export function formatDuration(ms: number): string {
  const say = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  if (ms >= DAY_MS && ms % DAY_MS === 0) return say(ms / DAY_MS, 'day', 'days');
  if (ms >= HOUR_MS && ms % HOUR_MS === 0) return say(ms / HOUR_MS, 'hour', 'hours');
  if (ms >= MINUTE_MS && ms % MINUTE_MS === 0) return say(ms / MINUTE_MS, 'minute', 'minutes');
  if (ms >= SECOND_MS && ms % SECOND_MS === 0) return `${ms / SECOND_MS} s`;
  return `${ms} ms`;
}

/**
 * Reads a duration from a site (a layout attribute or the config) and checks
 * it against `bounds`. A number, or a string without a unit, is in
 * `bareUnit`. The error completes a sentence whose subject is the value,
 * e.g. `timeout="597h" ` + `is more than 10 minutes: use a duration from 1 ms
 * to 10 minutes`.
 */
export function checkDuration(
  value: string | number,
  bounds: DurationBounds,
  bareUnit: 'ms' | 's' = 'ms',
): { ms: number } | { error: string } {
  let ms: number | undefined;
  if (typeof value === 'number') {
    ms = Number.isNaN(value) || value < 0 ? undefined : Math.round(value * (bareUnit === 's' ? SECOND_MS : 1));
  } else {
    ms = durationMs(value, bareUnit);
  }
  const range = `from ${formatDuration(bounds.min)} to ${formatDuration(bounds.max)}`;
  if (ms === undefined) {
    const how = bareUnit === 'ms' ? 'milliseconds (300) or a unit (300ms, 2s, 1m)' : 'seconds (60) or a unit (60s, 5m, 1h)';
    return { error: `is not a duration: use ${how}, ${range}` };
  }
  if (ms < bounds.min) return { error: `is less than ${formatDuration(bounds.min)}: use a duration ${range}` };
  if (ms > bounds.max) return { error: `is more than ${formatDuration(bounds.max)}: use a duration ${range}` };
  return { ms };
}
