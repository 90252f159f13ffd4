/**
 * An element's `data()` result as data, never as a code path: serialized
 * once, right after `data()` settles, into the JSON that both the render
 * cache key and the page's `<script type="application/json">` use. A value
 * that cannot be serialized (circular, BigInt, a throwing getter or
 * `toJSON`, a hostile Proxy) or is too large is a failure of that element —
 * reported with one clear reason — and not an exception somewhere later in
 * the stream.
 */
import { jsonForScript, type Html } from '../html.ts';

/** Largest serialized props accepted for one element (characters). */
export const MAX_PROPS_CHARS = 4 * 1024 * 1024;

/** The outcome of checking a `data()` result. */
export type PropsCheck =
  | { ok: true; props: Record<string, unknown> | undefined; json: Html | undefined }
  | { ok: false; reason: string };

/** Checks and serializes what a `data()` hook returned. Never throws. */
export function checkProps(value: unknown, maxChars = MAX_PROPS_CHARS): PropsCheck {
  try {
    if (value === undefined || value === null) return { ok: true, props: undefined, json: undefined };
    if (typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, reason: `data() must return an object of properties, not ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}` };
    }
    const json = jsonForScript(value);
    if (json.length > maxChars) return { ok: false, reason: `data() returned ${json.length} characters of JSON, more than the ${maxChars} allowed` };
    return { ok: true, props: value as Record<string, unknown>, json };
  } catch (e) {
    return { ok: false, reason: `data() returned a value that cannot be serialized to JSON (${describe(e)})` };
  }
}

function describe(e: unknown): string {
  try {
    if (e instanceof Error) return e.message.slice(0, 200);
    return String(e).slice(0, 200);
  } catch {
    return 'an unprintable error';
  }
}
