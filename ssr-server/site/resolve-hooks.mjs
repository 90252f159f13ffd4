/**
 * Module hooks for site code (registered with `module.register` by
 * `install-hooks.ts`), and the one TypeScript compiler that the server and
 * the client build share (see docs/site-formats.md).
 *
 * Resolution:
 * - `atoll-ssr` and `atoll-ssr/*` resolve to the running engine's own entry
 *   files (the checkout's `.ts` or the package's compiled `.js`, as
 *   `install-hooks.ts` found them), so a site module and the engine share
 *   one instance of every engine module.
 * - Lit's packages always resolve to Atoll's own copy, so that a site's
 *   elements, its component libraries and `@lit-labs/ssr` share one Lit (two
 *   copies would mean two `LitElement` classes and two template caches).
 * - Any other bare specifier that the site cannot resolve from its own
 *   `node_modules` falls back to Atoll's dependencies, so a site folder with
 *   plain Lit elements needs no `npm install` of its own.
 * - A site file's relative `./x.js` finds `./x.ts` (TypeScript's
 *   convention), and `./x` finds `./x.ts`, `./x.js`, `./x/index.ts`, …
 *
 * Loading a site file (outside any `node_modules` and outside the engine):
 * - `.mjs`/`.mts` are ES modules, `.cjs`/`.cts` CommonJS.
 * - `.js`/`.ts` under `"type": "module"` are ES modules. Otherwise their own
 *   syntax decides: `import`/`export`/`import.meta`/top-level `await` make
 *   an ES module (also under `"type": "commonjs"`, which `npm init` writes),
 *   `require`/`module.exports`/`exports` make CommonJS, and a file with
 *   neither follows the package type (an ES module when there is none).
 * - TypeScript is compiled by esbuild with the `tsconfig.json` nearest to
 *   the file (its `extends` followed, as tsc does): legacy
 *   `experimentalDecorators` and `useDefineForClassFields` work as the site
 *   configured them. The code carries an inline source map, so stack traces
 *   point into the site's source.
 * - CommonJS site files are left to Node's CommonJS loader; their
 *   TypeScript, resolution and fallbacks are handled on the main thread by
 *   `install-hooks.ts` with the functions exported here.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export const LIT_FAMILY = /^(lit|lit-html|lit-element|@lit\/reactive-element|@lit-labs\/ssr-dom-shim)(\/|$)/;
const BARE = /^(?![./]|[a-z][a-z0-9+.-]*:)/i;
/** Files Atoll loads itself (TypeScript) or decides the format of (JavaScript). */
const TS_EXT = /\.(ts|mts|cts|tsx)$/;
const JS_EXT = /\.(js|mjs|cjs|jsx)$/;
export const ENGINE_PACKAGE = 'atoll-ssr';

let atollParent = '';
let atollModules = '';
/** @type {Record<string, string>} */
let entries = {};
/** @type {string[]} */
let engineDirs = [];

/**
 * @param {{ atollParent: string, entries?: Record<string, string>, engineDirs?: string[] }} data
 */
export function initialize(data) {
  atollParent = data.atollParent;
  atollModules = atollParent.replace(/[^/]*$/, '') + 'node_modules/';
  entries = data.entries ?? {};
  engineDirs = data.engineDirs ?? [];
}

// ---------------------------------------------------------------------------
// Shared rules (also used by install-hooks.ts and the client build)
// ---------------------------------------------------------------------------

/**
 * Whether a file (absolute path or file URL, query allowed) is site code that
 * Atoll compiles and decides the format of: a TypeScript or JavaScript file
 * outside any `node_modules` and outside the engine's own folders.
 * @param {string} file
 * @param {readonly string[]} [engine] folder URLs of the engine (ending in /)
 */
export function isSiteFile(file, engine = engineDirs) {
  const url = file.startsWith('file:') ? file.split(/[?#]/)[0] : pathToFileURL(file).href;
  if (!url.startsWith('file:') || url.includes('/node_modules/')) return false;
  if (!TS_EXT.test(url) && !JS_EXT.test(url)) return false;
  return !engine.some((dir) => url.startsWith(dir));
}

/**
 * The `"type"` of the nearest package.json at or above `dir`: `module`,
 * `commonjs`, or `none` (no package.json, or one without a type).
 * @param {string} dir
 * @returns {'module' | 'commonjs' | 'none'}
 */
export function packageType(dir) {
  for (let d = dir; ; ) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) {
      try {
        const type = JSON.parse(readFileSync(pkg, 'utf8')).type;
        return type === 'module' || type === 'commonjs' ? type : 'none';
      } catch {
        return 'none';
      }
    }
    const parent = dirname(d);
    if (parent === d) return 'none';
    d = parent;
  }
}

/**
 * The `tsconfig.json` nearest to a file: the first one in its folder or a
 * folder above (what tsc, esbuild and editors pick), or undefined.
 * @param {string} file absolute path
 */
export function nearestTsconfig(file) {
  for (let d = dirname(file); ; ) {
    const candidate = join(d, 'tsconfig.json');
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
    const parent = dirname(d);
    if (parent === d) return undefined;
    d = parent;
  }
}

/**
 * The module format of a site file from its extension, the package type and
 * its own syntax (`esm`, `cjs` or undefined for neither): see the top of
 * this file.
 * @param {string} file
 * @param {'esm' | 'cjs' | undefined} syntax
 * @returns {'module' | 'commonjs'}
 */
export function siteFormat(file, syntax) {
  if (/\.m[jt]s$/.test(file)) return 'module';
  if (/\.c[jt]s$/.test(file)) return 'commonjs';
  const type = packageType(dirname(file));
  if (type === 'module') return 'module';
  if (syntax === 'esm') return 'module';
  if (syntax === 'cjs') return 'commonjs';
  return type === 'commonjs' ? 'commonjs' : 'module';
}

const LOADERS = { ts: 'ts', mts: 'ts', cts: 'ts', tsx: 'tsx', js: 'js', mjs: 'js', cjs: 'js', jsx: 'jsx' };

/**
 * esbuild options that compile one site file as tsc would with its nearest
 * tsconfig.json (read by esbuild, `extends` included). Module syntax is kept
 * as written; the caller decides the format.
 * @param {string} file absolute path
 * @param {string} source
 * @param {{ target: string | string[], define?: Record<string, string>, sourcemap?: 'inline' | 'external' }} options
 */
function buildOptions(file, source, options) {
  const ext = /** @type {keyof typeof LOADERS} */ (file.slice(file.lastIndexOf('.') + 1));
  const tsconfig = nearestTsconfig(file);
  return /** @type {import('esbuild').BuildOptions & { write: false }} */ ({
    stdin: { contents: source, sourcefile: file, resolveDir: dirname(file), loader: LOADERS[ext] ?? 'ts' },
    ...(tsconfig === undefined ? {} : { tsconfig }),
    bundle: false,
    write: false,
    metafile: true,
    outfile: file + '.compiled.js',
    allowOverwrite: true,
    absWorkingDir: dirname(file),
    sourcemap: 'external',
    sourcesContent: false,
    target: options.target,
    define: options.define,
    logLevel: 'silent',
    charset: 'utf8',
  });
}

/**
 * @typedef {{ code: string, map: string, syntax: 'esm' | 'cjs' | undefined }} Compiled
 */

/** @param {import('esbuild').BuildResult<{ write: false, metafile: true }>} result @param {string} file @returns {Compiled} */
function compiledFrom(result, file) {
  const out = result.outputFiles ?? [];
  const js = out.find((f) => f.path.endsWith('.js'));
  const mapFile = out.find((f) => f.path.endsWith('.map'));
  const input = Object.values(result.metafile?.inputs ?? {})[0];
  // The map names the file by its own name: Node and rollup resolve it
  // against the module's location, which is the source's.
  const map = mapFile === undefined ? '' : JSON.stringify(attributeHelpers({ ...JSON.parse(mapFile.text), sources: [basename(file)] }));
  const code = (js?.text ?? '').replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, '\n');
  // esbuild tells ES module syntax (import/export, import.meta, top-level
  // await) without bundling; CommonJS by its names, in the compiled code
  // (comments gone).
  const syntax = input?.format === 'esm' ? 'esm' : CJS_SYNTAX.test(code) ? 'cjs' : undefined;
  return { code, map, syntax };
}

/** Where stack frames in esbuild's helpers (decorators, `accessor` lowering) are shown. */
export const HELPERS_SOURCE = 'atoll:compiled-helpers';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** @param {string} text @returns {number[][][]} absolute [genCol, src, line, col, (name)] segments per generated line */
function decodeMappings(text) {
  const lines = [];
  const state = [0, 0, 0, 0, 0];
  for (const line of text.split(';')) {
    const segments = [];
    state[0] = 0;
    for (const segment of line.split(',')) {
      if (segment === '') continue;
      const values = [];
      for (let i = 0, value = 0, shift = 0; i < segment.length; i++) {
        const digit = B64.indexOf(segment[i]);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      const abs = values.map((v, i) => (state[i] += v));
      segments.push(abs);
    }
    lines.push(segments);
  }
  return lines;
}
/** @param {number[][][]} lines */
function encodeMappings(lines) {
  const state = [0, 0, 0, 0, 0];
  const vlq = (n) => {
    let v = n < 0 ? (-n << 1) | 1 : n << 1;
    let out = '';
    do {
      let digit = v & 31;
      v >>>= 5;
      if (v > 0) digit |= 32;
      out += B64[digit];
    } while (v > 0);
    return out;
  };
  return lines
    .map((segments) => {
      state[0] = 0;
      return segments.map((seg) => seg.map((v, i) => { const d = v - state[i]; state[i] = v; return vlq(d); }).join('')).join(',');
    })
    .join(';');
}

/**
 * esbuild puts its helpers (`__decorateClass`, `__decorateElement`, …) at
 * the top of a file and maps none of their lines, so Node showed a frame
 * in them as a position of the site's own file that does not exist (line
 * 36 of an 8-line element). The lines before the first mapped one are
 * attributed to {@link HELPERS_SOURCE} instead: such a frame names no site
 * file, and the error's location is the next frame, in the site's code.
 * @param {{ sources: string[], mappings: string, sourcesContent?: unknown }} map
 */
function attributeHelpers(map) {
  const lines = decodeMappings(map.mappings);
  const first = lines.findIndex((segments) => segments.length > 0);
  if (first <= 0) return map;
  for (let i = 0; i < first; i++) lines[i] = [[0, 1, i, 0]];
  return { ...map, sources: [...map.sources, HELPERS_SOURCE], mappings: encodeMappings(lines) };
}

const CJS_SYNTAX = /(?:^|[^.\w$])(?:module\.exports\b|exports\.[\w$]+\s*=|exports\[|require\s*\()/m;

/**
 * esbuild only warns about a tsconfig.json it cannot follow (a missing
 * `extends`, bad JSON); tsc stops, and so does Atoll: compiling with half a
 * configuration is how legacy decorators silently turn into standard ones.
 * @param {import('esbuild').BuildResult} result @param {string} file
 */
function tsconfigProblems(result, file) {
  const bad = (result.warnings ?? []).find((w) => w.location != null && /\.json$/i.test(w.location.file));
  if (bad !== undefined) throw compileError({ errors: [bad] }, file);
  return result;
}

/**
 * An esbuild failure as a SyntaxError whose message and stack name the
 * site's file:line:col (where Atoll's problem reports look for it).
 * @param {unknown} e @param {string} file
 */
function compileError(e, file) {
  const first = /** @type {{ errors?: Array<{ text: string, location?: { file: string, line: number, column: number, lineText?: string } | null }> }} */ (e).errors?.[0];
  if (first === undefined) return e;
  const loc = first.location;
  const where = loc == null ? file : loc.file === '<stdin>' || loc.file === '' ? file : resolvePath(dirname(file), loc.file);
  const at = loc ? `${where}:${loc.line}:${loc.column + 1}` : file;
  const err = new SyntaxError(first.text);
  err.stack = `SyntaxError: ${first.text}\n    at ${at}`;
  return Object.assign(err, { at });
}

/**
 * Compiles a site file (TypeScript, or JavaScript only to learn its syntax)
 * with its nearest tsconfig.json.
 * @param {string} file @param {string} source
 * @param {{ target: string | string[], define?: Record<string, string> }} options
 * @returns {Promise<Compiled>}
 */
export async function compileSiteFile(file, source, options) {
  try {
    return compiledFrom(/** @type {any} */ (tsconfigProblems(await esbuild.build(buildOptions(file, source, options)), file)), file);
  } catch (e) {
    throw compileError(e, file);
  }
}

/** The synchronous form of {@link compileSiteFile} (for CommonJS `require`). */
export function compileSiteFileSync(file, source, options) {
  try {
    return compiledFrom(/** @type {any} */ (tsconfigProblems(esbuild.buildSync(buildOptions(file, source, options)), file)), file);
  } catch (e) {
    throw compileError(e, file);
  }
}

/** `code` with its source map inline (what Node reads for stack traces). */
export function withInlineMap({ code, map }) {
  if (map === '') return code;
  return `${code}//# sourceMappingURL=data:application/json;base64,${Buffer.from(map).toString('base64')}\n`;
}

/** The target of server-side compiles: the running Node. */
export const NODE_TARGET = `node${process.versions.node}`;

/**
 * Candidates for a relative specifier that did not resolve from a site file:
 * TypeScript's `./x.js` → `./x.ts`, and extensionless `./x` → `./x.ts`,
 * `./x.js`, `./x/index.ts`, ….
 * @param {string} specifier
 */
export function siteCandidates(specifier) {
  const [path, query = ''] = specifier.split(/(?=[?#])/);
  const m = /\.(m|c)?js(x)?$/.exec(path);
  if (m) return [path.slice(0, -m[0].length) + `.${m[1] ?? ''}ts${m[2] ?? ''}`].map((p) => p + query);
  if (/\.[a-z]+$/i.test(basename(path))) return [];
  const exts = ['.ts', '.js', '.mts', '.mjs', '.cts', '.cjs', '.tsx', '.jsx'];
  return [...exts.map((e) => path + e), ...exts.map((e) => path.replace(/\/?$/, '/index') + e)].map((p) => p + query);
}

// ---------------------------------------------------------------------------
// Hooks
// ---------------------------------------------------------------------------

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  if (!atollParent || context.parentURL?.startsWith(atollModules)) {
    return nextResolve(specifier, context);
  }
  if (specifier === ENGINE_PACKAGE || specifier.startsWith(ENGINE_PACKAGE + '/')) {
    const url = entries[specifier];
    if (url !== undefined) return { url, shortCircuit: true };
    const err = new Error(`"${specifier}" is not an entry of ${ENGINE_PACKAGE} (its entries: ${Object.keys(entries).join(', ')})${context.parentURL ? `, imported from ${context.parentURL}` : ''}`);
    /** @type {any} */ (err).code = 'ERR_PACKAGE_PATH_NOT_EXPORTED';
    throw err;
  }
  if (!BARE.test(specifier)) {
    try {
      return await nextResolve(specifier, context);
    } catch (e) {
      const parent = context.parentURL;
      const code = /** @type {{ code?: string }} */ (e)?.code;
      if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT') || parent === undefined || !isSiteFile(parent) || !/^\.\.?\//.test(specifier)) throw e;
      for (const candidate of siteCandidates(specifier)) {
        const file = fileURLToPath(new URL(candidate.split(/[?#]/)[0], parent));
        if (existsSync(file) && statSync(file).isFile()) return nextResolve(candidate, context);
      }
      throw e;
    }
  }
  if (LIT_FAMILY.test(specifier)) {
    return nextResolve(specifier, { ...context, parentURL: atollParent });
  }
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    if (e && /** @type {{ code?: string }} */ (e).code === 'ERR_MODULE_NOT_FOUND') {
      return nextResolve(specifier, { ...context, parentURL: atollParent });
    }
    throw e;
  }
}

/** @type {import('node:module').LoadHook} */
export async function load(url, context, nextLoad) {
  if (!atollParent || !isSiteFile(url)) return nextLoad(url, context);
  const file = fileURLToPath(url.split(/[?#]/)[0]);
  const ts = TS_EXT.test(file);
  if (!ts && (/\.mjs$/.test(file) || (!/\.cjs$/.test(file) && packageType(dirname(file)) === 'module'))) {
    return nextLoad(url, { ...context, format: 'module' });
  }
  let format;
  let source;
  if (ts || !/\.cjs$/.test(file)) {
    const text = readFileSync(file, 'utf8');
    const compiled = await compileSiteFile(file, text, { target: NODE_TARGET });
    format = siteFormat(file, compiled.syntax);
    // JavaScript runs as written (its positions are the source's).
    source = ts ? withInlineMap(compiled) : text;
  } else {
    format = 'commonjs';
  }
  // CommonJS goes to Node's CommonJS loader (a source here would make Node 20
  // run it through the ES module loader, where require() of an ES module
  // fails); install-hooks.ts compiles its TypeScript there.
  if (format === 'commonjs') return { format: 'commonjs', source: null, shortCircuit: true };
  return { format: 'module', source, shortCircuit: true };
}
