/**
 * Generations of a site's code in one process (`atoll dev`; designed so that
 * loading new element versions in production can use it too).
 *
 * A generation is one complete load of the site: config, layouts, element
 * and hook modules. Two things make a new generation possible without a
 * restart:
 *
 * - **Module versions** (`module-versions.mjs`): a resolve hook versions the
 *   URLs of the site's own files. {@link ModuleVersions.invalidate} gives the
 *   changed files and every site file importing them a new version, so the
 *   next load evaluates them fresh while unchanged files and `node_modules`
 *   (one Lit) stay shared.
 * - **A custom element registry per generation** ({@link GenerationRegistry}):
 *   the server's `customElements` keeps one definition map per generation. A
 *   new generation starts from a copy of the last good one (unchanged modules
 *   are not evaluated again, so their definitions carry over) and may define
 *   a tag again. Which map `customElements.get()` reads is the generation of
 *   the work asking (an `AsyncLocalStorage`): a request in flight keeps its
 *   generation's classes after a newer generation is committed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire, register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { installResolveHooks } from './install-hooks.ts';

/** Atoll's package root (this file is `ssr-server/site/generations.ts`). */
const ATOLL_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The URL query parameter carrying a file's version. */
export const VERSION_PARAM = 'atoll-v';

/** The main thread's side of the module-versions hook, for one site. */
export interface ModuleVersions {
  readonly root: string;
  /**
   * Gives `files` (absolute paths) and every site file that imports them the
   * version `version` (a generation number from {@link GenerationRegistry.next},
   * so versions never repeat in the process); resolves with all the files
   * that got it.
   */
  invalidate(files: readonly string[], version: number, options?: { all?: boolean }): Promise<string[]>;
}

let channel: ((message: Record<string, unknown>) => Promise<string[]>) | undefined;

/** Registers the hook once per process and returns a way to talk to it. */
function hookChannel(): (message: Record<string, unknown>) => Promise<string[]> {
  if (channel !== undefined) return channel;
  installResolveHooks();
  const { port1, port2 } = new MessageChannel();
  // Atoll's own source stays one copy even when the site is Atoll's repository.
  const exclude = ['ssr-server', 'testing', 'islands', 'bin', 'types', 'dist'].map((d) => join(ATOLL_ROOT, d));
  register(new URL('./module-versions.mjs', import.meta.url), { data: { exclude, port: port2 }, transferList: [port2] });
  port1.unref();
  const pending = new Map<number, { resolve: (files: string[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  port1.on('message', (m: { id: number; files?: string[]; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (pending.size === 0) port1.unref();
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.files ?? []);
  });
  channel = (message) => {
    const id = nextId++;
    port1.ref();
    return new Promise<string[]>((resolvePromise, reject) => {
      pending.set(id, { resolve: resolvePromise, reject });
      port1.postMessage({ ...message, id });
    });
  };
  return channel;
}

const cjsCache = createRequire(import.meta.url).cache;

/**
 * Versions the files of the site at `root` from now on (Atoll's own
 * resolution hooks are installed first, so the hook sees their result).
 */
export async function enableModuleVersions(root: string): Promise<ModuleVersions> {
  const abs = resolve(root);
  const send = hookChannel();
  await send({ root: abs });
  return {
    root: abs,
    async invalidate(files, version, options = {}) {
      // `all`: every file of this site loaded so far (a tsconfig.json or package.json changed how
      // they compile or resolve; or a new dev server for a site this process loaded before).
      const all = await send({ files: files.map((f) => resolve(f)), version, all: options.all === true, under: abs });
      // CommonJS site files live in require's cache by path, whatever the URL: let them load again.
      for (const f of all) delete cjsCache[f];
      return all;
    },
  };
}

/** The URL of a site file without its version (for messages). */
export function unversioned(url: string): string {
  return url.replace(new RegExp(`[?&]${VERSION_PARAM}=\\d+`), '').replace(/\?$/, '');
}

// ---------------------------------------------------------------------------
// The per-generation custom element registry
// ---------------------------------------------------------------------------

interface Definition {
  ctor: CustomElementConstructor;
  observedAttributes: string[];
}

/** A generation's definitions, the names it inherited (which it may define again), and the file that defined each name. */
interface GenerationDefs {
  defs: Map<string, Definition>;
  inherited: Set<string>;
  origin: Map<string, string>;
}

/** Atoll's own code (registry.ts wraps define() too): never the defining module. */
const ENGINE_DIR = dirname(dirname(fileURLToPath(import.meta.url))) + '/';

/** The first file in the calling stack outside node_modules and Atoll's registry code: the module that called define(). */
function definingFile(): string | undefined {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(2)) {
    const m = /((?:file:\/\/)?\/[^\s()?]+?)(?:\?[^\s():]*)?:\d+:\d+\)?\s*$/.exec(line);
    if (m === null) continue;
    const path = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
    if (path.startsWith(ENGINE_DIR) || /[\\/]node_modules[\\/]/.test(path)) continue;
    return path;
  }
  return undefined;
}

/**
 * The server registry's definition maps, one per generation, behind the
 * `Map` that Lit's DOM shim reads (`customElements.__definitions`).
 */
export class GenerationRegistry {
  private readonly storage = new AsyncLocalStorage<number>();
  private readonly generations = new Map<number, GenerationDefs>();
  /** The generation that work outside any generation reads (the last committed). */
  private current: number;

  private constructor(initial: Map<string, Definition>) {
    this.current = 0;
    this.generations.set(0, { defs: initial, inherited: new Set(), origin: new Map() });
  }

  /**
   * Takes over `registry` (the server's `customElements`, Lit's DOM shim):
   * its definitions so far become generation 0's.
   */
  static install(registry: unknown = (globalThis as { customElements?: unknown }).customElements): GenerationRegistry {
    const shim = registry as {
      __definitions?: unknown;
      __atollGenerations?: GenerationRegistry;
      define: (name: string, ctor: CustomElementConstructor, options?: ElementDefinitionOptions) => void;
    } | undefined;
    if (shim === undefined || shim === null || !(shim.__definitions instanceof Map)) {
      throw new Error('the server\'s customElements is not Lit\'s DOM shim registry; generations need it');
    }
    if (shim.__atollGenerations !== undefined) return shim.__atollGenerations;
    const generations = new GenerationRegistry(shim.__definitions as Map<string, Definition>);
    shim.__definitions = generations.view();
    const define = shim.define;
    // A tag inherited from the previous generation may be defined again (its module changed).
    Object.defineProperty(shim, 'define', {
      configurable: true,
      writable: true,
      value: function (this: unknown, name: string, ctor: CustomElementConstructor, options?: ElementDefinitionOptions) {
        const g = generations.active();
        if (g.inherited.has(name)) {
          g.inherited.delete(name);
          g.defs.delete(name);
        }
        define.call(this, name, ctor, options);
        const file = definingFile();
        if (file !== undefined) g.origin.set(name, file);
      },
    });
    Object.defineProperty(shim, '__atollGenerations', { value: generations, configurable: true });
    return generations;
  }

  /** The generation the calling work belongs to. */
  generation(): number {
    return this.storage.getStore() ?? this.current;
  }

  private active(): GenerationDefs {
    return this.generations.get(this.generation()) ?? this.generations.get(this.current)!;
  }

  private last = 0;

  /** A generation number never used before in this process. */
  next(): number {
    return ++this.last;
  }

  /**
   * Starts generation `n` as a copy of generation `from`'s definitions,
   * without those defined by a file in `reloading` (files that evaluate
   * again in `n`): for them `customElements.get()` answers undefined until
   * they define again, so a module that guards its define with
   * `if (!customElements.get(tag))` defines its new class.
   */
  begin(n: number, from: number = this.current, reloading: Iterable<string> = []): void {
    const base = this.generations.get(from) ?? this.generations.get(this.current)!;
    const g: GenerationDefs = { defs: new Map(base.defs), inherited: new Set(base.defs.keys()), origin: new Map(base.origin) };
    const files = new Set(reloading);
    for (const [tag, file] of base.origin) {
      if (!files.has(file)) continue;
      g.defs.delete(tag);
      g.inherited.delete(tag);
      g.origin.delete(tag);
    }
    this.generations.set(n, g);
  }

  /** Runs `body` as work of generation `n` (its imports define into it; its renders read it). */
  run<T>(n: number, body: () => T): T {
    return this.storage.run(n, body);
  }

  /** Makes `n` the generation that work outside any generation reads. */
  commit(n: number): void {
    this.current = n;
  }

  /** Forgets generation `n` (a failed load, or one no request uses any more). */
  drop(n: number): void {
    if (n !== this.current) this.generations.delete(n);
  }

  /** The tags generation `n` defines. */
  tags(n: number = this.generation()): string[] {
    return [...(this.generations.get(n)?.defs.keys() ?? [])];
  }

  /** A Map whose every operation goes to the active generation's map. */
  private view(): Map<string, Definition> {
    const self = this;
    class GenerationView extends Map<string, Definition> {
      override get(key: string) {
        return self.active().defs.get(key);
      }
      override has(key: string) {
        return self.active().defs.has(key);
      }
      override set(key: string, value: Definition) {
        self.active().defs.set(key, value);
        return this;
      }
      override delete(key: string) {
        return self.active().defs.delete(key);
      }
      override clear() {
        self.active().defs.clear();
      }
      override get size() {
        return self.active().defs.size;
      }
      override forEach(fn: (value: Definition, key: string, map: Map<string, Definition>) => void, thisArg?: unknown) {
        self.active().defs.forEach((v, k) => fn.call(thisArg, v, k, this));
      }
      override keys() {
        return self.active().defs.keys();
      }
      override values() {
        return self.active().defs.values();
      }
      override entries() {
        return self.active().defs.entries();
      }
      override [Symbol.iterator]() {
        return self.active().defs.entries();
      }
    }
    return new GenerationView();
  }
}
