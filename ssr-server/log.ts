/**
 * Structured logging: one JSON object per line. The interface is small so an
 * operator can pass pino (or anything with the same three methods).
 */

/** A structured logger. `fields` are merged into the line. */
export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Writes JSON lines to a stream (stderr by default). */
export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const line = (level: string, fields: Record<string, unknown>, msg: string): void => {
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  };
  return {
    info: (f, m) => line('info', f, m),
    warn: (f, m) => line('warn', f, m),
    error: (f, m) => line('error', f, m),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** A logger that keeps every line in memory (for tests). */
export function memoryLogger(): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const push = (level: string) => (fields: Record<string, unknown>, msg: string) => {
    lines.push({ level, msg, ...fields });
  };
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

/** Serializes an error for a log line. */
export function errorFields(e: unknown): Record<string, unknown> {
  if (e instanceof Error) return { err: { name: e.name, message: e.message, stack: e.stack } };
  return { err: { message: String(e) } };
}
