/**
 * The element registry (SPEC 2): which custom tags are microfrontends, where
 * their server and client modules are, and their server hooks. Built once at
 * start-up from the `elements/` folder by convention, then the config's
 * `elements` map; every module is imported (and checked) before the first
 * request.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { types } from 'node:util';
import { resolve as resolveSpecifier } from 'import-meta-resolve';
import type { ProblemList, SourceLocation } from '../errors.ts';
import { DEFAULT_IMPORT_TIMEOUT, quote, type ConfigLocator, type ResolvedConfig } from './config.ts';
import { isForbiddenAttribute, type ServerHooks } from '../hooks.ts';

/** A microfrontend known to the registry. */
export interface ElementDefinition {
  tag: string;
  /** `module`: rendered in this process; `remote`: fetched from `url`. */
  kind: 'module' | 'remote';
  /** Absolute file URL of the server-side module (module kind). */
  moduleUrl: string | undefined;
  /** The module as the site named it (for messages and the client build). */
  moduleSource: string | undefined;
  /** The fragment URL of a remote element. */
  url: string | undefined;
  /** The browser module when it differs from the server module. */
  client: string | undefined;
  /** Server hooks, when the element has a `server.ts` beside it. */
  hooks: ServerHooks;
  hooksFile: string | undefined;
  /** Default timeout in ms from the registry entry. */
  timeout: number | undefined;
  /** Default render-cache lifetime from the registry entry, in ms. */
  cache: number | undefined;
  /**
   * A remote element's caching, declared in its registry entry: used when its
   * response headers are not known by the head deadline.
   */
  cacheControl?: string | undefined;
  /**
   * What the element's markup varies on besides tag, attributes and data
   * (request header names, `cookie:<name>`): the render-cache key holds
   * those request values, and `private` output is cached per variant
   * (docs/caching.md). Undefined: `private` output is never cached.
   */
  cacheVary?: readonly string[] | undefined;
  /** The entry's `version` (part of the render-cache key), when it has one. */
  version?: string | undefined;
  /** Where the entry came from, for messages. */
  source: SourceLocation;
}

/** The registry: tag → definition. */
export type ElementRegistry = ReadonlyMap<string, ElementDefinition>;

const TAG_RE = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;
const EXTS = ['.ts', '.js', '.mts', '.mjs'];

interface Found {
  tag: string;
  modulePath: string | undefined;
  hooksPath: string | undefined;
}

/** Finds `elements/<tag>/index.(ts|js)` and `elements/<tag>.(ts|js)`. */
export function discoverElements(root: string): Found[] {
  const dir = join(root, 'elements');
  if (!existsSync(dir)) return [];
  const found = new Map<string, Found>();
  const firstExisting = (base: string): string | undefined =>
    EXTS.map((e) => base + e).find((p) => existsSync(p));
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('_') || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (!TAG_RE.test(name)) continue;
      const modulePath = firstExisting(join(full, 'index'));
      if (modulePath === undefined) continue;
      found.set(name, { tag: name, modulePath, hooksPath: firstExisting(join(full, 'server')) });
      continue;
    }
    const m = /^(.*?)(\.ts|\.js|\.mts|\.mjs)$/.exec(name);
    if (!m || name.endsWith('.d.ts')) continue;
    const tag = m[1]!;
    if (tag.endsWith('.server') || !TAG_RE.test(tag) || found.has(tag)) continue;
    found.set(tag, { tag, modulePath: full, hooksPath: firstExisting(join(dir, `${tag}.server`)) });
  }
  return [...found.values()];
}

/**
 * Builds the registry from discovery and the resolved config (durations
 * already checked and in ms), without importing anything. `locate` says
 * where a config key path is written, for messages.
 */
export function buildRegistry(root: string, config: ResolvedConfig, locate: ConfigLocator, problems: ProblemList): Map<string, ElementDefinition> {
  const registry = new Map<string, ElementDefinition>();
  for (const f of discoverElements(root)) {
    const rel = relative(root, f.modulePath!);
    const shown = relative(process.cwd(), f.modulePath!);
    registry.set(f.tag, {
      tag: f.tag,
      kind: 'module',
      moduleUrl: pathToFileURL(f.modulePath!).href,
      moduleSource: `./${rel.split('\\').join('/')}`,
      url: undefined,
      client: undefined,
      hooks: {},
      hooksFile: f.hooksPath,
      timeout: undefined,
      cache: undefined,
      cacheControl: undefined,
      source: { file: shown.startsWith('..') ? f.modulePath! : shown },
    });
  }
  for (const [tag, entry] of Object.entries(config.elements ?? {})) {
    const prev = registry.get(tag);
    let moduleUrl = prev?.moduleUrl;
    let moduleSource = prev?.moduleSource;
    if (entry.module !== undefined) {
      moduleSource = entry.module;
      try {
        moduleUrl = resolveModule(root, entry.module);
      } catch (e) {
        problems.error(locate(['elements', tag, 'module'], 'value'), `elements.${tag}.module: cannot resolve "${entry.module}" from ${root}: ${(e as Error).message}`);
        continue;
      }
    }
    const isRemote = entry.url !== undefined;
    let hooksFile = prev?.hooksFile;
    if (entry.server !== undefined) {
      hooksFile = resolvePath(root, entry.server);
      if (!existsSync(hooksFile)) problems.error(locate(['elements', tag, 'server'], 'value'), `elements.${tag}.server: ${entry.server} does not exist`);
    }
    if (!isRemote && moduleUrl === undefined) {
      problems.error(
        locate(['elements', tag], 'key'),
        `elements.${tag} needs "module" (a package specifier or path) or "url" (a remote element), or a module at elements/${tag}/index.ts`,
      );
      continue;
    }
    registry.set(tag, {
      tag,
      kind: isRemote ? 'remote' : 'module',
      moduleUrl: isRemote ? undefined : moduleUrl,
      moduleSource: isRemote ? undefined : moduleSource,
      url: entry.url,
      client: entry.client ?? prev?.client,
      hooks: {},
      hooksFile: isRemote ? undefined : hooksFile,
      timeout: entry.timeout ?? prev?.timeout,
      cache: entry.cache ?? prev?.cache,
      cacheControl: entry.cacheControl ?? prev?.cacheControl,
      cacheVary: entry.cacheVary === undefined ? undefined : checkCacheVary(tag, entry.cacheVary, config, locate, problems),
      version: isRemote ? undefined : entry.version,
      source: locate(['elements', tag], 'key'),
    });
  }
  return registry;
}

/**
 * A `cacheVary` list (already checked for its form by the config schema) is
 * only sound when the element can see what it names: each header, and the
 * `Cookie` header for a `cookie:<name>`, must be among `requestHeaders`.
 * Anything else is a start-up problem at the entry (file:line:col).
 */
function checkCacheVary(tag: string, vary: readonly string[], config: ResolvedConfig, locate: ConfigLocator, problems: ProblemList): readonly string[] {
  const allowed = new Set(config.requestHeaders ?? []);
  vary.forEach((entry, i) => {
    const header = entry.startsWith('cookie:') ? 'cookie' : entry;
    if (allowed.has(header)) return;
    const what = header === entry ? `the request header "${entry}"` : `the cookie "${entry.slice(7)}" (of the "cookie" header)`;
    problems.error(
      locate(['elements', tag, 'cacheVary', i], 'value'),
      `elements.${tag}.cacheVary[${i}]: elements do not see ${what}: add "${header}" to requestHeaders (now ${JSON.stringify([...allowed])}), or remove it here`,
    );
  });
  return Object.freeze([...vary]);
}

/** Resolves a config `module` (path or package specifier) to a file URL. */
export function resolveModule(root: string, specifier: string): string {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const path = resolvePath(root, specifier);
    if (!existsSync(path)) throw new Error(`${path} does not exist`);
    return pathToFileURL(path).href;
  }
  return resolveSpecifier(specifier, pathToFileURL(join(root, 'package.json')).href);
}

/**
 * Imports every module element and its hooks, checking that each module
 * defines its tag. Problems name the module file (and the line and column of
 * a throw, when the stack has it), the element and the module as the site
 * named it. A module that throws (anything: an Error, a string, a Proxy),
 * calls `process.exit`, or does not finish importing within `timeoutMs` is a
 * problem, never a crash (see {@link importGuarded}).
 */
export async function loadElementModules(
  root: string,
  registry: Map<string, ElementDefinition>,
  problems: ProblemList,
  options: { timeoutMs?: number; shimsInstalled?: readonly string[] } = {},
): Promise<void> {
  const registryApi = globalThis.customElements;
  const timeoutMs = options.timeoutMs ?? DEFAULT_IMPORT_TIMEOUT;
  await withStartupGuard(async () => {
    for (const def of registry.values()) {
      if (def.kind !== 'module' || def.moduleUrl === undefined) continue;
      const display = displayPath(root, def.moduleUrl);
      const defined: string[] = [];
      const originalDefine = registryApi.define;
      registryApi.define = function (this: CustomElementRegistry, name: string, ctor: CustomElementConstructor, options?: ElementDefinitionOptions) {
        defined.push(name);
        return originalDefine.call(this, name, ctor, options);
      } as typeof originalDefine;
      let result: ImportResult;
      try {
        result = await importGuarded(def.moduleUrl, `<${def.tag}>`, timeoutMs);
      } finally {
        registryApi.define = originalDefine;
      }
      if (!result.ok) {
        const loc = result.kind === 'threw' ? throwLocation(result.error, def.moduleUrl, display) : { file: display };
        problems.error(loc, importFailureMessage('the element module', result, { tag: def.tag, module: def.moduleSource, moduleUrl: def.moduleUrl, shims: options.shimsInstalled ?? [], timeoutMs }));
        continue;
      }
      if (registryApi.get(def.tag) === undefined) {
        const what = defined.length === 0 ? 'it defined no custom element' : `it defined ${defined.map((t) => `<${t}>`).join(', ')}`;
        problems.error({ file: display }, `this module must define <${def.tag}> (customElements.define('${def.tag}', …)), but ${what}`);
      }
      if (def.hooksFile !== undefined) await loadHooks(root, def, problems, timeoutMs);
    }
  }, problems);
}

// ---------------------------------------------------------------------------
// Guarded start-up imports
// ---------------------------------------------------------------------------

/** The outcome of {@link importGuarded}. */
export type ImportResult =
  | { ok: true; module: Record<string, unknown> }
  | { ok: false; kind: 'threw'; error: unknown }
  | { ok: false; kind: 'exit'; code: unknown }
  | { ok: false; kind: 'timeout' };

/** Thrown in place of `process.exit` while a start-up import runs. */
class ExitDuringImport extends Error {
  constructor(readonly code: unknown) {
    super('process.exit() was called while a module was being imported');
  }
}

/** Values thrown by start-up imports that were reported as problems. */
const reportedObjects = new WeakSet<object>();
const reportedPrimitives = new Set<unknown>();
/** Open while start-up imports run (and a moment after): unhandled rejections then are the site's start-up problems. */
let guardDepth = 0;
/** Unhandled rejections seen while the guard was open, with what was being imported. */
let strayRejections: Array<{ reason: unknown; during: string | undefined; uncaught?: boolean }> = [];
/** What is being imported right now (for messages), or the last thing imported. */
let importing: string | undefined;
let listenerInstalled = false;

function remember(value: unknown): void {
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') reportedObjects.add(value as object);
  else reportedPrimitives.add(value);
}

function isReported(value: unknown): boolean {
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') return reportedObjects.has(value as object);
  return reportedPrimitives.has(value);
}

/**
 * Whether an unhandled rejection (or uncaught exception) belongs to Atoll's
 * start-up imports: a value an import threw and that was already reported
 * (Node 20 reports a throw in a CommonJS module imported by an ES module
 * twice: once to the importer, once as an unhandled rejection,
 * nodejs/node#51603), or anything while start-up imports run (reported as a
 * start-up problem). `atoll serve`'s own handler leaves these alone.
 */
export function isStartupImportRejection(reason: unknown): boolean {
  return guardDepth > 0 || isReported(reason);
}

function onUnhandledRejection(reason: unknown): void {
  if (isReported(reason)) return;
  if (guardDepth > 0) {
    strayRejections.push({ reason, during: importing });
    return;
  }
  // Not ours. With no other listener Node would end the process: do the same.
  if (process.listenerCount('unhandledRejection') <= 1) {
    process.nextTick(() => {
      throw reason;
    });
  }
}

/** While start-up imports run: an exception nobody caught (a module's timer threw) is a start-up problem too. */
function onUncaughtDuringStartup(error: unknown): void {
  if (isReported(error)) return;
  strayRejections.push({ reason: error, during: importing, uncaught: true });
}

/**
 * Runs `body` (start-up imports) with unhandled rejections and uncaught
 * exceptions claimed: one that nobody handles while it runs — or in the
 * moment after, when a module's fire-and-forget `import()` or timer fails —
 * becomes a problem naming what was being imported, instead of a crash.
 */
export async function withStartupGuard(body: () => Promise<void>, problems: ProblemList): Promise<void> {
  if (!listenerInstalled) {
    listenerInstalled = true;
    process.on('unhandledRejection', onUnhandledRejection);
  }
  if (guardDepth++ === 0) {
    strayRejections = [];
    process.on('uncaughtException', onUncaughtDuringStartup);
  }
  const baseline = pendingLoaderRequests();
  try {
    await body();
    // Let work the modules started (a fire-and-forget import(), a timer of
    // 0) fail now rather than after start-up: wait until the module loader
    // is quiet (no request to the loader hooks' thread in flight: an active
    // MessagePort) twice in a row, at most a second.
    const deadline = Date.now() + 1000;
    for (let quiet = 0; quiet < 2 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 5));
      quiet = pendingLoaderRequests() <= baseline ? quiet + 1 : 0;
    }
    await new Promise((r) => setImmediate(r));
  } finally {
    if (--guardDepth === 0) process.removeListener('uncaughtException', onUncaughtDuringStartup);
  }
  if (guardDepth > 0) return;
  const strays = strayRejections;
  strayRejections = [];
  for (const { reason, during, uncaught } of strays) {
    if (isReported(reason)) continue;
    remember(reason);
    const at = thrownAt(reason);
    const what = uncaught ? 'a callback threw and nothing caught it' : 'a promise was rejected and nothing handled it';
    problems.error(
      { file: at ?? '(start-up)' },
      `while the site's modules were imported${during === undefined ? '' : ` (the last one started: ${during})`}, ${what}: ${describeThrown(reason)}${browserGlobalHint(reason, [])}`,
    );
  }
}

/** Active MessagePorts: with loader hooks registered, an import in flight holds one. */
function pendingLoaderRequests(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
}

/**
 * Imports `url` for start-up: a throw (of anything), a `process.exit` call
 * during evaluation, or no settling within `timeoutMs` is returned, never
 * thrown; the thrown value is remembered so that Node 20's duplicate report
 * of it (see {@link isStartupImportRejection}) is not an uncaught exception.
 */
export async function importGuarded(url: string, what: string, timeoutMs: number): Promise<ImportResult> {
  enterExitGuard();
  const callsBefore = exitCallCount;
  importing = what;
  let timer: NodeJS.Timeout | undefined;
  const loading = import(url) as Promise<Record<string, unknown>>;
  try {
    const timedOut = new Promise<'timeout'>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs);
    });
    const settled = await Promise.race([loading.then((module) => ({ module }), (error: unknown) => ({ error })), timedOut]);
    if (settled === 'timeout') {
      // It may still settle later: a late throw is swallowed (the site is refused already).
      loading.then(undefined, (e: unknown) => remember(e));
      return { ok: false, kind: 'timeout' };
    }
    if ('error' in settled) {
      remember(settled.error);
      const exit = isObject(settled.error) ? exitErrors.get(settled.error) : undefined;
      if (exit !== undefined) return { ok: false, kind: 'exit', code: exit.code };
      return { ok: false, kind: 'threw', error: settled.error };
    }
    // The module caught the refusal and went on: still a module that tried to end the process.
    if (exitCallCount > callsBefore) return { ok: false, kind: 'exit', code: lastExitCode };
    return { ok: true, module: settled.module };
  } finally {
    clearTimeout(timer);
    leaveExitGuard();
  }
}

const isObject = (x: unknown): x is object => (typeof x === 'object' && x !== null) || typeof x === 'function';

/** The errors thrown in place of `process.exit`, with the code asked for (a WeakMap: no trap of a Proxy runs). */
const exitErrors = new WeakMap<object, { code: unknown }>();
/** How many `process.exit` calls were refused so far, and the last one's code. */
let exitCallCount = 0;
let lastExitCode: unknown;
let exitGuardDepth = 0;
let realExit: typeof process.exit | undefined;

/** Replaces `process.exit` while any start-up import runs (imports may overlap: the real one comes back after the last). */
function enterExitGuard(): void {
  if (exitGuardDepth++ > 0) return;
  realExit = process.exit;
  process.exit = ((code?: unknown): never => {
    exitCallCount++;
    lastExitCode = code;
    const e = new ExitDuringImport(code);
    exitErrors.set(e, { code });
    throw e;
  }) as typeof process.exit;
}

function leaveExitGuard(): void {
  if (--exitGuardDepth > 0 || realExit === undefined) return;
  process.exit = realExit;
  realExit = undefined;
}

/** Browser globals (and patterns of their names) that Node does not have. */
const BROWSER_GLOBALS = new Set([
  'window', 'self', 'document', 'navigator', 'location', 'history', 'localStorage', 'sessionStorage', 'indexedDB',
  'customElements', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'matchMedia', 'getComputedStyle',
  'Node', 'Element', 'Document', 'DocumentFragment', 'ShadowRoot', 'Window', 'Image', 'Audio', 'DOMParser', 'XMLHttpRequest',
  'MutationObserver', 'ResizeObserver', 'IntersectionObserver', 'ElementInternals', 'CSS', 'FontFace', 'screen', 'devicePixelRatio',
  'innerWidth', 'innerHeight', 'scrollX', 'scrollY', 'addEventListener', 'removeEventListener', 'dispatchEvent', 'alert', 'top', 'parent', 'frames',
]);
const BROWSER_GLOBAL_RE = /^(HTML|SVG|CSS|DOM|Media|Mouse|Keyboard|Pointer|Touch|Focus|Input|Wheel|Drag|Animation|Transition)[A-Za-z]*$|Element$/;

/** The browser global a thrown value says is missing, or undefined. */
export function missingBrowserGlobal(e: unknown): string | undefined {
  try {
    if (!(e instanceof ReferenceError) || types.isProxy(e)) return undefined;
    const m = /^([A-Za-z_$][\w$]*) is not defined$/.exec(String(e.message));
    if (m === null) return undefined;
    const name = m[1]!;
    return BROWSER_GLOBALS.has(name) || BROWSER_GLOBAL_RE.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Advice for a throw caused by a missing browser global (empty when it is not one). */
function browserGlobalHint(e: unknown, shims: readonly string[]): string {
  const name = missingBrowserGlobal(e);
  if (name === undefined) return missingShimMember(e);
  const builtIn = SHIM_PROVIDES[name];
  if (builtIn !== undefined && !shims.includes(builtIn)) {
    return `. It reads the browser global "${name}", which Node does not have on the server; the "${builtIn}" shim provides it: set "ssr": { "shims": true } in atoll.config (see docs/ssr-shims.md)`;
  }
  return `. It reads the browser global "${name}", which Node does not have on the server${builtIn === undefined ? ' and Atoll\'s built-in shims do not provide' : ''}: provide it with a shim module of your own in "ssr.shims" (see docs/ssr-shims.md), or render this element only in the browser`;
}

/** Advice for `window.scrollTo is not a function` and the like: a shimmed global lacks a member. */
function missingShimMember(e: unknown): string {
  try {
    if (!(e instanceof TypeError) || types.isProxy(e)) return '';
    const m = /^(window|self|document|navigator|location)\.([A-Za-z_$][\w$]*) is not a function$/.exec(String(e.message));
    if (m === null) return '';
    return `. On the server, "${m[1]}" is a shim without "${m[2]}": provide it with a shim module of your own in "ssr.shims" (see docs/ssr-shims.md), or render this element only in the browser`;
  } catch {
    return '';
  }
}

/** Which built-in shim provides a global (kept in step with shims.ts). */
const SHIM_PROVIDES: Record<string, string | undefined> = Object.assign(Object.create(null) as Record<string, string | undefined>, {
  window: 'window', self: 'window', addEventListener: 'window', removeEventListener: 'window', dispatchEvent: 'window',
  matchMedia: 'window', getComputedStyle: 'window', navigator: 'window', requestAnimationFrame: 'lit', cancelAnimationFrame: 'lit',
  document: 'lit', Node: 'lit', Element: 'lit', HTMLElement: 'lit', Document: 'lit', ShadowRoot: 'lit', CSSStyleSheet: 'lit',
  HTMLSlotElement: 'lit', ElementInternals: 'lit', MutationObserver: 'lit', ResizeObserver: 'lit', IntersectionObserver: 'lit',
  location: 'lit', Window: 'lit', customElements: 'lit', CSSRule: 'lit', CSSRuleList: 'lit', MediaList: 'lit', StyleSheet: 'lit',
});

/** The message for a failed start-up import of `what` ("the element module", "the shim module", …). */
export function importFailureMessage(
  what: string,
  result: Exclude<ImportResult, { ok: true }>,
  about: { tag?: string; module?: string; moduleUrl: string; shims: readonly string[]; timeoutMs: number },
): string {
  const named = [about.tag === undefined ? undefined : `element <${about.tag}>`, about.module === undefined ? undefined : `module ${quote(about.module, 120)}`].filter((x) => x !== undefined);
  const ctx = named.length === 0 ? '' : ` (${named.join(', ')})`;
  switch (result.kind) {
    case 'timeout':
      return `${what}${ctx} did not finish importing within ${formatMs(about.timeoutMs)} (a top-level await that never settles?): the site cannot start; raise "ssr.importTimeout" if it is only slow`;
    case 'exit':
      return `${what}${ctx} called process.exit(${describeExitCode(result.code)}) while it was imported: a module the server imports must not end the server's process (the call was refused)`;
    case 'threw': {
      const at = thrownAt(result.error);
      const own = at !== undefined && about.moduleUrl.startsWith('file:') && at.startsWith(displayPath('', about.moduleUrl) + ':');
      return `${what} threw while loading: ${describeThrown(result.error)}${ctx}${at !== undefined && !own ? `, thrown at ${at}` : ''}${browserGlobalHint(result.error, about.shims)}`;
    }
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function describeExitCode(code: unknown): string {
  return typeof code === 'number' || typeof code === 'string' ? String(code).slice(0, 20) : code === undefined ? '' : '…';
}

/** A thrown value in one line, without running its code where it can be avoided (a Proxy, a getter). */
export function describeThrown(e: unknown): string {
  try {
    if (types.isProxy(e)) return 'a Proxy object (not an Error)';
    if (typeof e === 'string') return `the string ${quote(e, 300)} (not an Error)`;
    if (typeof e !== 'object' || e === null) return typeof e === 'function' ? 'a function (not an Error)' : `${typeof e === 'symbol' ? 'a symbol' : String(e)} (not an Error)`;
    if (!(e instanceof Error)) return 'an object that is not an Error';
    const name = typeof e.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
    const message = typeof e.message === 'string' ? e.message : '(no message)';
    return oneLine(name === '' || message.startsWith(name) ? message : name + message);
  } catch {
    return 'a value that cannot be printed';
  }
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > 500 ? flat.slice(0, 500) + '…' : flat;
}

/** `file:line:col` (relative to the working directory) of the first stack frame with a file, or undefined. */
function thrownAt(e: unknown): string | undefined {
  try {
    if (types.isProxy(e) || !(e instanceof Error)) return undefined;
    const stack = e.stack;
    if (typeof stack !== 'string') return undefined;
    for (const line of stack.split('\n').slice(1, 12)) {
      const m = /((?:file:\/\/)?\/[^\s()]+?):(\d+):(\d+)\)?\s*$/.exec(line);
      if (m === null || m[1]!.startsWith('node:')) continue;
      const path = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
      // With source maps on (tsx turns them on), a package's stack may name its original source, which it need not ship.
      const mapped = existsSync(path) ? '' : ' (a source-mapped location)';
      return `${displayPath('', pathToFileURL(path).href)}:${m[2]}:${m[3]}${mapped}`;
    }
  } catch {
    // no location
  }
  return undefined;
}

async function loadHooks(root: string, def: ElementDefinition, problems: ProblemList, timeoutMs: number): Promise<void> {
  const url = pathToFileURL(def.hooksFile!).href;
  const display = displayPath(root, url);
  const result = await importGuarded(url, `<${def.tag}>'s server hooks`, timeoutMs);
  if (!result.ok) {
    const loc = result.kind === 'threw' ? throwLocation(result.error, url, display) : { file: display };
    problems.error(loc, importFailureMessage('the server hooks module', result, { tag: def.tag, moduleUrl: url, shims: [], timeoutMs }));
    return;
  }
  const mod = result.module;
  for (const name of ['data', 'headers', 'paths', 'head', 'cacheTags'] as const) {
    if (mod[name] !== undefined && typeof mod[name] !== 'function') {
      problems.error({ file: display }, `export "${name}" must be a function`);
    }
  }
  let attributes: string[] | undefined;
  if (mod.attributes !== undefined) {
    const list = mod.attributes;
    if (!Array.isArray(list) || !list.every((a) => typeof a === 'string' && /^[a-z_][a-z0-9_.:-]*$/.test(a))) {
      problems.error({ file: display }, 'export "attributes" must be an array of attribute names in lower case, e.g. ["product-id"]');
    } else {
      const sinks = list.filter((a) => isForbiddenAttribute(a));
      if (sinks.length > 0) problems.error({ file: display }, `export "attributes": ${sinks.join(', ')} can never pass the fragment endpoint (event handlers and script or style sinks)`);
      else attributes = list as string[];
    }
  }
  def.hooks = {
    data: mod.data as ServerHooks['data'],
    headers: mod.headers as ServerHooks['headers'],
    paths: mod.paths as ServerHooks['paths'],
    head: mod.head as ServerHooks['head'],
    cacheTags: mod.cacheTags as ServerHooks['cacheTags'],
    attributes,
  };
}

/** A module's path as messages show it: relative to the working directory when inside it. */
function displayPath(_root: string, url: string): string {
  if (!url.startsWith('file:')) return url;
  const path = fileURLToPath(url);
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

/** Finds `file:line:col` of a throw inside `url` from the error's stack. */
function throwLocation(e: unknown, url: string, display: string): SourceLocation {
  let stack = '';
  try {
    stack = !types.isProxy(e) && e instanceof Error && typeof e.stack === 'string' ? e.stack : '';
  } catch {
    // no stack
  }
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  for (const candidate of [url, path]) {
    const i = stack.indexOf(candidate + ':');
    if (i >= 0) {
      const m = /^:(\d+):(\d+)/.exec(stack.slice(i + candidate.length));
      if (m) return { file: display, line: Number(m[1]), col: Number(m[2]) };
    }
  }
  // A syntax error names the position as "file:line".
  return { file: display };
}
