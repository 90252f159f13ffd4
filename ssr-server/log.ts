/**
 * Structured logging: one JSON object per line. The interface is small so an
 * operator can pass pino (or anything with the same methods; `debug` is
 * optional).
 *
 * Log fields may carry values that came from element hooks (a rejection
 * reason, a data value), so nothing here may throw on them: `errorFields` and
 * the JSON logger turn circular, BigInt, null-prototype, Proxy and
 * throwing-getter values into placeholders and cut huge strings, and a line is
 * always one valid JSON object.
 */

/** A structured logger. `fields` are merged into the line. */
export interface Logger {
  debug?(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  /** The least severe level written, when the logger knows it: callers may skip building a line below it. */
  readonly level?: LogLevel;
}

/** Log levels, least severe first; `silent` writes nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Every level name, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** True when `value` names a log level. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

const rank = (level: LogLevel): number => LOG_LEVELS.indexOf(level);

/** False when `logger` says it drops lines at `level` (so they need not be built); true when it writes them or cannot tell. */
export function writesAt(logger: Logger, level: Exclude<LogLevel, 'silent'>): boolean {
  let own: unknown;
  try {
    own = logger.level;
  } catch {
    return true;
  }
  return !isLogLevel(own) || rank(level) >= rank(own);
}

/** A JSON-lines logger whose level can be changed after it is made (e.g. once the site config is read). */
export interface JsonLogger extends Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  /** The least severe level written. */
  level: LogLevel;
}

/** Options for {@link jsonLogger}. */
export interface JsonLoggerOptions {
  /** The least severe level written (default `info`). */
  level?: LogLevel;
}

/**
 * Writes JSON lines to a stream (stderr by default). Lines below `level` are
 * dropped before any work is done for them.
 */
export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l), options: JsonLoggerOptions = {}): JsonLogger {
  let min = rank(options.level ?? 'info');
  const line = (level: Exclude<LogLevel, 'silent'>, fields: Record<string, unknown>, msg: string): void => {
    if (rank(level) < min) return;
    let text: string;
    try {
      text = formatLine(level, fields, msg);
    } catch {
      // formatLine does not throw; this is the last guard of a log call.
      text = JSON.stringify({ time: new Date().toISOString(), level, msg: '[unloggable line]' });
    }
    try {
      write(text + '\n');
    } catch {
      // A closed stderr must not take a request down with it.
    }
  };
  return {
    get level() {
      return LOG_LEVELS[min]!;
    },
    set level(level: LogLevel) {
      if (isLogLevel(level)) min = rank(level);
    },
    debug: (f, m) => line('debug', f, m),
    info: (f, m) => line('info', f, m),
    warn: (f, m) => line('warn', f, m),
    error: (f, m) => line('error', f, m),
  };
}

/** One log line as JSON text: `time`, `level`, `msg`, then the (made safe) fields. */
export function formatLine(level: string, fields: unknown, msg: unknown): string {
  const out: Record<string, unknown> = { time: new Date().toISOString(), level, msg: typeof msg === 'string' ? truncate(msg) : safeString(msg) };
  const safe = toJsonSafe(fields, newBudget());
  if (typeof safe === 'object' && safe !== null && !Array.isArray(safe)) {
    for (const [k, v] of Object.entries(safe)) {
      if (k !== 'time' && k !== 'level' && k !== 'msg') out[k] = v;
    }
  } else if (safe !== undefined && safe !== null) out.fields = safe;
  return JSON.stringify(out);
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, level: 'silent' };

/** A logger that keeps every line in memory (for tests). */
export function memoryLogger(): Logger & { debug(fields: Record<string, unknown>, message: string): void; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const push = (level: string) => (fields: Record<string, unknown>, msg: string) => {
    lines.push({ level, msg, ...fields });
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

/**
 * A logger that writes only lines at `level` or above to `logger` (for an
 * operator's logger that has no level of its own). A missing `debug` is
 * simply skipped.
 */
export function filterLogger(logger: Logger, level: LogLevel): Logger {
  const min = rank(level);
  const at = (l: Exclude<LogLevel, 'silent'>) => (f: Record<string, unknown>, m: string) => {
    if (rank(l) < min) return;
    try {
      logger[l]?.(f, m);
    } catch {
      // An operator's logger that throws must not fail the request.
    }
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), level };
}

/** Longest string kept in a log field; longer ones are cut with a note of their length. */
export const MAX_LOG_STRING = 16 * 1024;
/** Most characters of strings kept in one log line. */
const LINE_BUDGET = 256 * 1024;
const MAX_DEPTH = 8;
const MAX_KEYS = 100;

function truncate(s: string, max = MAX_LOG_STRING): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[${s.length - max} more characters]`;
}

/**
 * `String(value)` that never throws: a throwing `toString`, a null-prototype
 * object, a Proxy that throws on every trap and a Symbol all give a string.
 * Long results are cut.
 */
export function safeString(value: unknown): string {
  try {
    if (typeof value === 'string') return truncate(value);
    if (typeof value === 'symbol') return value.toString();
    if (typeof value !== 'object' && typeof value !== 'function') return String(value);
    if (value === null) return 'null';
  } catch {
    return '[unprintable value]';
  }
  try {
    const s = String(value);
    if (typeof s === 'string') return truncate(s);
  } catch {
    // a throwing toString, a null prototype or a hostile Proxy: try the plain tag
  }
  try {
    return Object.prototype.toString.call(value);
  } catch {
    return '[unprintable object]';
  }
}

type Budget = { chars: number };
const newBudget = (): Budget => ({ chars: LINE_BUDGET });

function budgetString(s: string, budget: Budget): string {
  const max = Math.min(MAX_LOG_STRING, Math.max(0, budget.chars));
  const out = truncate(s, max);
  budget.chars -= Math.min(s.length, max);
  return out;
}

/**
 * Turns any value into one that `JSON.stringify` writes without throwing
 * and without calling back into user code: plain objects, arrays, strings,
 * finite numbers, booleans and null only. Circular references become
 * `"[Circular]"`, BigInts strings, throwing getters and traps `"[Thrown]"`,
 * deep or wide values are cut.
 */
export function toJsonSafe(value: unknown, budget: Budget = newBudget(), seen: unknown[] = [], depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return budgetString(value, budget);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return `${value.toString()}n`;
    case 'undefined':
      return undefined;
    case 'symbol':
      return value.toString();
    case 'function':
      return '[Function]';
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.includes(obj)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  if (budget.chars <= 0) return '[Truncated]';
  seen.push(obj);
  try {
    let isError = false;
    let isArray = false;
    let isDate = false;
    try {
      isError = obj instanceof Error;
      isArray = Array.isArray(obj);
      isDate = obj instanceof Date;
    } catch {
      return '[Unreadable object]';
    }
    if (isDate) {
      try {
        return (obj as Date).toISOString();
      } catch {
        return 'Invalid Date';
      }
    }
    if (isError) return errorObject(obj as Error, budget);
    if (isArray) {
      const arr = obj as unknown[];
      const out: unknown[] = [];
      let n = 0;
      try {
        n = arr.length;
      } catch {
        return '[Unreadable array]';
      }
      for (let i = 0; i < Math.min(n, MAX_KEYS); i++) {
        let item: unknown;
        try {
          item = arr[i];
        } catch {
          item = '[Thrown]';
        }
        const safe = toJsonSafe(item, budget, seen, depth + 1);
        out.push(safe === undefined ? null : safe);
      }
      if (n > MAX_KEYS) out.push(`[${n - MAX_KEYS} more items]`);
      return out;
    }
    let keys: string[];
    try {
      keys = Object.keys(obj);
    } catch {
      return '[Unreadable object]';
    }
    const out: Record<string, unknown> = {};
    for (const k of keys.slice(0, MAX_KEYS)) {
      let v: unknown;
      try {
        v = (obj as Record<string, unknown>)[k];
      } catch {
        v = '[Thrown]';
      }
      const safe = toJsonSafe(v, budget, seen, depth + 1);
      if (safe !== undefined) out[budgetString(k, budget)] = safe;
    }
    if (keys.length > MAX_KEYS) out['…'] = `${keys.length - MAX_KEYS} more keys`;
    return out;
  } finally {
    seen.pop();
  }
}

function readField(e: object, key: string): unknown {
  try {
    return (e as Record<string, unknown>)[key];
  } catch {
    return '[Thrown]';
  }
}

function errorObject(e: Error, budget: Budget): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'message', 'stack', 'code'] as const) {
    const v = readField(e, key);
    if (v !== undefined) out[key] = typeof v === 'string' ? budgetString(v, budget) : toJsonSafe(v, budget, [], MAX_DEPTH - 1);
  }
  return out;
}

/**
 * Serializes an error (or anything thrown) for a log line. Never throws:
 * whatever a hook rejects with, even a value built to break loggers, gives a
 * small JSON-safe object.
 */
export function errorFields(e: unknown): Record<string, unknown> {
  const budget = newBudget();
  try {
    let isError = false;
    try {
      isError = e instanceof Error;
    } catch {
      return { err: { message: '[unreadable thrown value]' } };
    }
    if (isError) return { err: errorObject(e as Error, budget) };
    if (typeof e === 'object' && e !== null) {
      return { err: { message: safeString(e), value: toJsonSafe(e, budget) } };
    }
    return { err: { message: safeString(e) } };
  } catch {
    return { err: { message: '[unreadable thrown value]' } };
  }
}
