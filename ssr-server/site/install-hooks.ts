/**
 * Registers Atoll's module hooks for site code (see `resolve-hooks.mjs` and
 * docs/site-formats.md) once per process, before any site module is
 * imported:
 *
 * - the ES module hooks (resolution, format by syntax, TypeScript compiled
 *   with the site's nearest tsconfig.json), told where the running engine's
 *   own entries are, so that `atoll-ssr` in site code is this engine;
 * - the same rules for CommonJS site files, which Node's CommonJS loader
 *   runs on this thread: `.ts`/`.cts` compiled the same way, `atoll-ssr` and
 *   Lit from the engine, other packages falling back to Atoll's
 *   dependencies, `./x.js` finding `./x.ts`;
 * - source maps on, so that a stack trace through site TypeScript names the
 *   site's file, line and column.
 *
 * Nothing here depends on tsx: a compiled engine (dist/) runs site
 * TypeScript without it; from the checkout, tsx (registered by bin/atoll.mjs
 * or `node --import tsx`) compiles only the engine's own files.
 */
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ENGINE_PACKAGE,
  LIT_FAMILY,
  NODE_TARGET,
  compileSiteFileSync,
  isSiteFile,
  siteCandidates,
  withInlineMap,
} from './resolve-hooks.mjs';

/** Where the running engine is: its package root and entry files. */
export interface EngineLocation {
  /** URL of the engine package's package.json. */
  packageJson: string;
  /** `atoll-ssr`, `atoll-ssr/testing`, … → file URL of that entry in this engine. */
  entries: Record<string, string>;
  /** Folders (URLs ending in /) holding the engine's own code: never treated as site code. */
  engineDirs: string[];
}

/**
 * Finds the running engine from this file's own URL: from the checkout it is
 * `<root>/ssr-server/site/install-hooks.ts` and the entries are the `.ts`
 * sources (the `atoll-source` condition of the package's exports); from a
 * compiled package it is `<root>/dist/ssr-server/site/install-hooks.js` and
 * the entries are the compiled `.js` (the `import` condition). The package
 * root is the nearest folder above with a package.json named `atoll-ssr`;
 * without an exports map there, the entries are the files of the same tree
 * as this one.
 */
export function engineLocation(selfUrl: string = import.meta.url): EngineLocation {
  const source = selfUrl.endsWith('.ts');
  // ssr-server/site/ → the tree that holds ssr-server/ and testing/ (the root, or dist/).
  const tree = new URL('../../', selfUrl);
  let root = tree;
  let exportsMap: unknown;
  for (let dir = fileURLToPath(tree); ; ) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown; exports?: unknown };
        if (json.name === ENGINE_PACKAGE) {
          root = pathToFileURL(dir.endsWith('/') ? dir : dir + '/');
          exportsMap = json.exports;
          break;
        }
      } catch {
        // not ours
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const ext = source ? '.ts' : '.js';
  const entries: Record<string, string> = {
    [ENGINE_PACKAGE]: new URL(`ssr-server/index${ext}`, tree).href,
    [`${ENGINE_PACKAGE}/testing`]: new URL(`testing/index${ext}`, tree).href,
    [`${ENGINE_PACKAGE}/testing/browser`]: new URL(`testing/browser${ext}`, tree).href,
    [`${ENGINE_PACKAGE}/package.json`]: new URL('package.json', root).href,
  };
  if (typeof exportsMap === 'object' && exportsMap !== null && !Array.isArray(exportsMap)) {
    const conditions = source ? ['atoll-source', 'import', 'default'] : ['import', 'node', 'default'];
    for (const [subpath, target] of Object.entries(exportsMap as Record<string, unknown>)) {
      if (!subpath.startsWith('.') || subpath.includes('*')) continue;
      let file: unknown = target;
      if (typeof target === 'object' && target !== null) file = conditions.map((c) => (target as Record<string, unknown>)[c]).find((t) => typeof t === 'string');
      if (typeof file !== 'string' || !file.startsWith('./')) continue;
      entries[subpath === '.' ? ENGINE_PACKAGE : `${ENGINE_PACKAGE}/${subpath.slice(2)}`] = new URL(file, root).href;
    }
  }
  return {
    packageJson: new URL('package.json', root).href,
    entries,
    engineDirs: [...new Set([tree.href, root.href].flatMap((base) => ['ssr-server/', 'testing/', 'islands/', 'bin/', 'dist/'].map((d) => new URL(d, base).href)))],
  };
}

let installed = false;

/** Installs the hooks; later calls do nothing. */
export function installResolveHooks(): void {
  if (installed) return;
  installed = true;
  const engine = engineLocation();
  process.setSourceMapsEnabled(true);
  register(new URL('./resolve-hooks.mjs', import.meta.url), {
    data: { atollParent: engine.packageJson, entries: engine.entries, engineDirs: engine.engineDirs },
  });
  installCommonJsHooks(engine);
}

interface CjsModule {
  _compile(code: string, filename: string): unknown;
}
type ExtensionHandler = (module: CjsModule, filename: string) => void;
interface ModuleInternals {
  _extensions: Record<string, ExtensionHandler>;
  _resolveFilename(request: string, parent: { filename?: string | null } | undefined, isMain: boolean, options?: unknown): string;
}

/**
 * The CommonJS side: Node's CommonJS loader runs `.cjs` files and CommonJS
 * `.js`/`.ts` site files on this thread, outside the ES module hooks.
 */
function installCommonJsHooks(engine: EngineLocation): void {
  const internals = Module as unknown as ModuleInternals;
  const isSite = (file: string | null | undefined): file is string => typeof file === 'string' && isSiteFile(file, engine.engineDirs);
  const fallback = createRequire(engine.packageJson);

  for (const ext of ['.ts', '.cts', '.tsx']) {
    const previous = internals._extensions[ext] ?? internals._extensions['.js']!;
    internals._extensions[ext] = function (module, filename) {
      if (!isSite(filename)) return previous(module, filename);
      const compiled = compileSiteFileSync(filename, readFileSync(filename, 'utf8'), { target: NODE_TARGET });
      module._compile(withInlineMap(compiled), filename);
    };
  }

  const resolveFilename = internals._resolveFilename;
  internals._resolveFilename = function (request, parent, isMain, options) {
    if (!isSite(parent?.filename)) return resolveFilename.call(this, request, parent, isMain, options);
    if (request === ENGINE_PACKAGE || request.startsWith(ENGINE_PACKAGE + '/')) {
      const url = engine.entries[request];
      if (url === undefined) {
        throw Object.assign(new Error(`"${request}" is not an entry of ${ENGINE_PACKAGE} (its entries: ${Object.keys(engine.entries).join(', ')}), required from ${parent!.filename}`), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
      }
      return fileURLToPath(url);
    }
    if (LIT_FAMILY.test(request)) return fallback.resolve(request);
    try {
      return resolveFilename.call(this, request, parent, isMain, options);
    } catch (e) {
      if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
      if (/^\.\.?\//.test(request)) {
        for (const candidate of siteCandidates(request)) {
          const file = join(dirname(parent!.filename!), candidate);
          if (existsSync(file)) return resolveFilename.call(this, candidate, parent, isMain, options);
        }
        throw e;
      }
      if (request.startsWith('/') || request.startsWith('node:')) throw e;
      try {
        return fallback.resolve(request);
      } catch {
        throw e;
      }
    }
  };
}
