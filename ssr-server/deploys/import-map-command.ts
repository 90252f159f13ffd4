/**
 * `atoll import-map set <tag> …` and `atoll import-map remove <tag>` (issue
 * 16, SPEC 9c): the deploy side's edit of a server import map file — the
 * step that makes a version live once its files are uploaded
 * (`atoll build --element`), or rolls it back.
 *
 * Safe by construction:
 * - The map is read and checked with the server's own parser
 *   (`import-map.ts`): a map the server would refuse is never written, and
 *   an existing map that does not parse is left alone (its problem, with
 *   line:col, is the message).
 * - The new map is written to a temporary file in the same folder and
 *   renamed over the old one: a reader (the server polling it, a static
 *   host serving it) sees the old map or the new one, never half of one.
 * - Writers take turns through a lock file beside the map (created with
 *   O_EXCL, holding the writer's pid): two deploys at once both land, in
 *   some order, instead of one overwriting the other's read. A lock whose
 *   process is gone, or older than {@link STALE_LOCK_MS}, is taken over.
 * - Entries keep their order (a new tag goes last), the rest of the file
 *   its keys; the text is 2-space JSON with a final newline.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { checkBaseUrl } from './element-build.ts';
import { ImportMapError, parseImportMap } from './import-map.ts';

/** A refused command: the message says what to do (the CLI prints it, exit 1). */
export class ImportMapCommandError extends Error {
  override name = 'ImportMapCommandError';
}

/** Options of {@link setImportMapEntry}. */
export interface SetEntryOptions {
  /** The map file (created when missing). */
  map: string;
  tag: string;
  server: string;
  client: string;
  /** The URL the map is served from, if it is (relative URLs are checked against it). */
  mapUrl?: string | undefined;
}

/** What a change did. */
export interface MapChange {
  map: string;
  tag: string;
  /** The entry before (undefined: there was none). */
  before: { server: string; client: string } | undefined;
  /** The entry after (undefined: removed). */
  after: { server: string; client: string } | undefined;
  /** False when the map already said this (nothing was written). */
  changed: boolean;
}

/** How long a writer waits for another's lock before it gives up. */
export const LOCK_WAIT_MS = 10_000;
/** A lock older than this is a writer that died without removing it. */
export const STALE_LOCK_MS = 30_000;
/** The biggest map this command edits (the server's reader has its own limit). */
const MAX_MAP_BYTES = 4 * 1024 * 1024;
const TAG_RE = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;
/** The biggest entry.json read (`atoll build --element` writes ~250 bytes). */
const MAX_ENTRY_BYTES = 64 * 1024;

/** Checks a tag given on the command line. */
function checkTag(tag: string): void {
  if (!TAG_RE.test(tag)) {
    throw new ImportMapCommandError(`"${shown(tag)}" is not a custom element name (lower case, starting with a letter, with a "-": e.g. team-greeting)`);
  }
}

/** Checks a module URL given on the command line: absolute http(s)/file, or relative to the map. */
function checkModuleUrl(flag: string, url: string): void {
  const checked = checkBaseUrl(url);
  if (!checked.ok) throw new ImportMapCommandError(checked.message.replace(/^--base-url/, flag));
  if (url.endsWith('/')) throw new ImportMapCommandError(`${flag} "${shown(url)}" names a folder: give the module's URL (…/server.mjs, …/client.mjs)`);
}

/** Sets (adds or replaces) `tag`'s entry in the map file. */
export async function setImportMapEntry(options: SetEntryOptions): Promise<MapChange> {
  checkTag(options.tag);
  checkModuleUrl('--server', options.server);
  checkModuleUrl('--client', options.client);
  return editMap(options.map, options.tag, { server: options.server, client: options.client }, options.mapUrl);
}

/** Removes `tag`'s entry from the map file (an error when it has none). */
export async function removeImportMapEntry(options: { map: string; tag: string; mapUrl?: string | undefined }): Promise<MapChange> {
  checkTag(options.tag);
  return editMap(options.map, options.tag, undefined, options.mapUrl);
}

/** Reads an `entry.json` written by `atoll build --element`. */
export function readEntryFile(file: string, tag: string): { server: string; client: string } {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_ENTRY_BYTES) throw new ImportMapCommandError(`--entry ${file} is ${size} bytes: an entry.json is a few hundred; is it the right file?`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ImportMapCommandError) throw e;
    throw new ImportMapCommandError(`--entry ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); it is the entry.json that atoll build --element wrote`);
  }
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch (e) {
    throw new ImportMapCommandError(`--entry ${file}: not JSON (${(e as Error).message})`);
  }
  const record = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as Record<string, unknown>) : {};
  if (typeof record.server !== 'string' || typeof record.client !== 'string') {
    throw new ImportMapCommandError(`--entry ${file}: needs "server" and "client" URLs (strings), as atoll build --element writes them`);
  }
  if (record.tag !== undefined && record.tag !== tag) {
    throw new ImportMapCommandError(`--entry ${file} is the build of <${shown(String(record.tag))}>, not <${tag}>`);
  }
  return { server: record.server, client: record.client };
}

/** One locked read-change-write of the map file. */
async function editMap(mapFile: string, tag: string, next: { server: string; client: string } | undefined, mapUrl: string | undefined): Promise<MapChange> {
  const map = resolve(mapFile);
  if (!existsSync(dirname(map))) throw new ImportMapCommandError(`${mapFile}: its folder ${dirname(map)} does not exist`);
  const unlock = await lock(map);
  try {
    let text: string | undefined;
    try {
      const size = statSync(map).size;
      if (size > MAX_MAP_BYTES) throw new ImportMapCommandError(`${mapFile} is ${size} bytes: more than an import map should be (${MAX_MAP_BYTES}); is it the right file?`);
      text = readFileSync(map, 'utf8');
    } catch (e) {
      if (e instanceof ImportMapCommandError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EISDIR') throw new ImportMapCommandError(`${mapFile} is a folder: give the import map's file (e.g. ${join(mapFile, 'importmap.json')})`);
      if (code !== 'ENOENT') throw new ImportMapCommandError(`${mapFile}: cannot be read (${code ?? (e as Error).message})`);
    }
    const json = text === undefined ? { elements: {} } : checkedMap(text, map, mapUrl);
    const elements = json.elements as Record<string, unknown>;
    const beforeRaw = Object.hasOwn(elements, tag) ? elements[tag] : undefined;
    const before = isEntry(beforeRaw) ? { server: beforeRaw.server, client: beforeRaw.client } : undefined;
    if (next === undefined) {
      if (!Object.hasOwn(elements, tag)) {
        const tags = Object.keys(elements);
        throw new ImportMapCommandError(`${mapFile} has no <${tag}>` + (tags.length === 0 ? ' (it names no elements)' : ` (its elements: ${tags.join(', ')})`));
      }
      delete elements[tag];
    } else {
      if (before !== undefined && before.server === next.server && before.client === next.client && text !== undefined) {
        return { map, tag, before, after: next, changed: false };
      }
      // Assigning an existing key keeps its place; a new one goes last.
      elements[tag] = { ...(typeof beforeRaw === 'object' && beforeRaw !== null ? beforeRaw : {}), server: next.server, client: next.client };
    }
    const out = JSON.stringify(json, null, 2) + '\n';
    // What the server would read: refused here, never written.
    validate(out, map, 'in the map as it would be after this change: nothing was written', mapUrl);
    writeAtomically(map, out);
    return { map, tag, before, after: next, changed: true };
  } finally {
    unlock();
  }
}

/** The map's JSON once the server's parser accepts it. */
function checkedMap(text: string, map: string, mapUrl: string | undefined): Record<string, unknown> {
  validate(text, map, 'the map as it is: nothing was written; fix it first, or remove the file to start a new map', mapUrl);
  const json = JSON.parse(text) as Record<string, unknown>;
  if (typeof json.elements !== 'object' || json.elements === null || Array.isArray(json.elements)) {
    // The parser accepted a map without "elements" (an empty one): start the section.
    json.elements = {};
  }
  return json;
}

/**
 * Throws the parser's message (with line:col) when the server would refuse
 * `text`. Relative URLs are resolved against the map's own URL: a map with
 * any is one served over http(s) (a file map resolves them to `file:`
 * URLs, which a browser cannot load), so it is checked as such — against
 * `mapUrl` when given, else a stand-in http origin; a map without any is
 * checked as the file it is (where `file:` server modules are allowed).
 */
function validate(text: string, map: string, note: string, mapUrl: string | undefined): void {
  const rel = relative(process.cwd(), map);
  const source = rel === '' || rel.startsWith('..') ? map : rel;
  const base = mapUrl ?? (hasRelativeUrl(text) ? `http://import-map.invalid/${encodeURIComponent(basename(map))}` : undefined);
  try {
    parseImportMap(text, source, base === undefined ? {} : { base });
  } catch (e) {
    if (!(e instanceof ImportMapError)) throw e;
    throw new ImportMapCommandError(`${e.message}\n(${note})`);
  }
}

/** Whether an entry of the map's JSON has a URL without a scheme. */
function hasRelativeUrl(text: string): boolean {
  try {
    const json = JSON.parse(text) as { elements?: Record<string, Record<string, unknown>> };
    return Object.values(json.elements ?? {}).some(
      (e) => typeof e === 'object' && e !== null && [e.server, e.client].some((u) => typeof u === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(u)),
    );
  } catch {
    return false;
  }
}

function isEntry(x: unknown): x is { server: string; client: string } {
  return typeof x === 'object' && x !== null && typeof (x as { server?: unknown }).server === 'string' && typeof (x as { client?: unknown }).client === 'string';
}

/** Writes `text` to a temporary file beside `file`, then renames it over `file`. */
function writeAtomically(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ImportMapCommandError(`${file}: cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Takes the map's lock (`.<name>.lock` beside it), waiting for another
 * writer up to {@link LOCK_WAIT_MS}; returns the release.
 */
async function lock(map: string): Promise<() => void> {
  const path = join(dirname(map), `.${basename(map)}.lock`);
  const me = `${process.pid} ${hostname()} ${Date.now()}\n`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, me);
      } finally {
        closeSync(fd);
      }
      return () => {
        // Only our own lock (a stale-lock takeover by another writer must not be undone).
        try {
          if (readFileSync(path, 'utf8') === me) rmSync(path, { force: true });
        } catch {
          // gone already
        }
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new ImportMapCommandError(`${path}: cannot create the lock file (${code ?? (e as Error).message})`);
    }
    if (staleLock(path)) {
      // Rename, then remove: of two writers that both saw it stale, one renames it.
      const aside = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        renameSync(path, aside);
        rmSync(aside, { force: true });
      } catch {
        // another writer took it over first
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new ImportMapCommandError(`${map} is locked by another writer (${path}) for more than ${LOCK_WAIT_MS / 1000} s; if no deploy is running, remove that file`);
    }
    await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
  }
}

/** A lock left by a process that is gone (same host), or older than {@link STALE_LOCK_MS}. */
function staleLock(path: string): boolean {
  try {
    const [pid, host] = readFileSync(path, 'utf8').split(' ');
    if (Date.now() - statSync(path).mtimeMs > STALE_LOCK_MS) return true;
    if (host !== hostname() || pid === undefined || !/^\d+$/.test(pid)) return false;
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    // Gone (released meanwhile) or being written: not stale; the next try decides.
    return false;
  }
}

/** What the command prints for a change. */
export function formatChange(change: MapChange, cwd = process.cwd()): string {
  const rel = relative(cwd, change.map);
  const map = rel === '' || rel.startsWith('..') ? change.map : rel;
  if (change.after === undefined) {
    return `removed <${change.tag}> from ${map}` + (change.before ? ` (was server ${change.before.server}, client ${change.before.client})` : '') + '\n';
  }
  if (!change.changed) return `${map} already has <${change.tag}> at server ${change.after.server}, client ${change.after.client}: unchanged\n`;
  return (
    `${change.before === undefined ? 'added' : 'set'} <${change.tag}> in ${map}\n` +
    `  server: ${change.after.server}\n  client: ${change.after.client}\n` +
    (change.before === undefined ? '' : `  (was server ${change.before.server}, client ${change.before.client})\n`)
  );
}

/** `atoll import-map …` on the command line; returns the exit code. */
export async function runImportMapCommand(
  positionals: readonly string[],
  values: { map?: string | undefined; server?: string | undefined; client?: string | undefined; entry?: string | undefined; 'map-url'?: string | undefined },
): Promise<number> {
  const usage = 'atoll import-map set <tag> --server URL --client URL [--map FILE] | set <tag> --entry entry.json | remove <tag> [--map FILE]';
  const [action, tag, ...extra] = positionals;
  const fail = (message: string, code = 2): number => {
    process.stderr.write(`atoll import-map: ${message}\n`);
    return code;
  };
  if (action !== 'set' && action !== 'remove') return fail(action === undefined ? `give an action: ${usage}` : `unknown action "${shown(action)}": ${usage}`);
  if (tag === undefined) return fail(`give the element's tag: ${usage}`);
  if (extra.length > 0) return fail(`unexpected argument "${shown(extra[0]!)}" (${usage})`);
  const map = values.map ?? 'importmap.json';
  const mapUrl = values['map-url'];
  if (mapUrl !== undefined && !/^https?:\/\/[^\s]+$/i.test(mapUrl)) return fail(`--map-url "${shown(mapUrl)}": give the http(s) URL the map is served from`);
  try {
    let change: MapChange;
    if (action === 'remove') {
      if (values.server !== undefined || values.client !== undefined || values.entry !== undefined) return fail('remove takes only the tag, --map and --map-url');
      change = await removeImportMapEntry({ map, tag, mapUrl });
    } else {
      let server = values.server;
      let client = values.client;
      if (values.entry !== undefined) {
        if (server !== undefined || client !== undefined) return fail('give --entry, or --server and --client, not both');
        ({ server, client } = readEntryFile(values.entry, tag));
      }
      if (server === undefined || client === undefined) return fail(`set needs --server URL and --client URL (or --entry entry.json): ${usage}`);
      change = await setImportMapEntry({ map, tag, server, client, mapUrl });
    }
    process.stdout.write(formatChange(change));
    return 0;
  } catch (e) {
    if (!(e instanceof ImportMapCommandError)) throw e;
    return fail(e.message, 1);
  }
}

function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value).slice(1, -1);
}
