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
import { resolve as resolveSpecifier } from 'import-meta-resolve';
import type { ProblemList, SourceLocation } from '../errors.ts';
import type { ConfigLocator, ResolvedConfig } from './config.ts';
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
      source: locate(['elements', tag], 'key'),
    });
  }
  return registry;
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
 * a throw, when the stack has it).
 */
export async function loadElementModules(root: string, registry: Map<string, ElementDefinition>, problems: ProblemList): Promise<void> {
  const registryApi = globalThis.customElements;
  for (const def of registry.values()) {
    if (def.kind !== 'module' || def.moduleUrl === undefined) continue;
    const display = displayPath(root, def.moduleUrl);
    const defined: string[] = [];
    const originalDefine = registryApi.define;
    registryApi.define = function (this: CustomElementRegistry, name: string, ctor: CustomElementConstructor, options?: ElementDefinitionOptions) {
      defined.push(name);
      return originalDefine.call(this, name, ctor, options);
    } as typeof originalDefine;
    try {
      await import(def.moduleUrl);
    } catch (e) {
      problems.error(throwLocation(e, def.moduleUrl, display), `the element module threw while loading: ${errorMessage(e)}`);
      continue;
    } finally {
      registryApi.define = originalDefine;
    }
    if (registryApi.get(def.tag) === undefined) {
      const what = defined.length === 0 ? 'it defined no custom element' : `it defined ${defined.map((t) => `<${t}>`).join(', ')}`;
      problems.error({ file: display }, `this module must define <${def.tag}> (customElements.define('${def.tag}', …)), but ${what}`);
    }
    if (def.hooksFile !== undefined) await loadHooks(root, def, problems);
  }
}

async function loadHooks(root: string, def: ElementDefinition, problems: ProblemList): Promise<void> {
  const url = pathToFileURL(def.hooksFile!).href;
  const display = displayPath(root, url);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    problems.error(throwLocation(e, url, display), `the server hooks module threw while loading: ${errorMessage(e)}`);
    return;
  }
  for (const name of ['data', 'headers'] as const) {
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

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Finds `file:line:col` of a throw inside `url` from the error's stack. */
function throwLocation(e: unknown, url: string, display: string): SourceLocation {
  const stack = e instanceof Error ? (e.stack ?? '') : '';
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
