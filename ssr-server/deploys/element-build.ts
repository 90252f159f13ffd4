/**
 * `atoll build --element <tag>` (issue 16, SPEC 9c): one element of a site
 * built for an independent deploy, as the files a team uploads to a static
 * host under a versioned folder, `<out>/<tag>/<version>/`:
 *
 * - `server.mjs`: ONE ES module that defines the element and re-exports its
 *   server hooks (`data`, `headers`, `head`, `attributes`, …). Site code
 *   (the element, its hooks, what they import by relative path) is bundled
 *   in and its TypeScript compiled as the server compiles it (esbuild, the
 *   nearest tsconfig.json); bare imports (`lit`, `@lit/*`, `atoll-ssr`,
 *   other packages, Node built-ins) stay imports, resolved by the serving
 *   site (so the element shares the server's one Lit). No relative import is
 *   left: a downloaded module cannot have siblings.
 * - `client.mjs`: the browser module, self-contained (Lit bundled, with
 *   `lit-element-hydrate-support` evaluated before Lit, and the props
 *   decoder, exactly as the client build's element entries: `build/plugins.ts`),
 *   minified, with no import left.
 * - `entry.json`: `{ tag, version, server, client }` with the URLs the
 *   files will have once uploaded (`--base-url`), ready for
 *   `atoll import-map set <tag> --entry entry.json`.
 *
 * The version is a short content hash of both files unless given, so the
 * same source always gives the same URLs: uploads are immutable, and a
 * folder that already holds a *different* build under that version is
 * refused, never overwritten. The folder appears whole (written beside it,
 * then renamed) or not at all.
 *
 * Rollup runs in this process (the CLI's; it exits after). Only the
 * registry is read (config + `elements/`); no element module is imported,
 * so another element's broken module does not stop this one's build.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terserPlugin from '@rollup/plugin-terser';
import { rollup, type OutputAsset, type OutputChunk, type Plugin, type RollupLog } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';
import { ProblemList } from '../errors.ts';
import { ATOLL_ROOT } from '../build/build.ts';
import { CLIENT_TARGET, elementEntries, elementEntryId, siteResolution } from '../build/plugins.ts';
import { readConfigFile, resolveConfigSources } from '../site/config.ts';
import { engineLocation, installResolveHooks } from '../site/install-hooks.ts';
import { buildRegistry, resolveModule, type ElementDefinition } from '../site/registry.ts';
import { compileSiteFile, isSiteFile, siteCandidates, siteFormat } from '../site/resolve-hooks.mjs';

// The plugin's types describe its CommonJS build; Node's ESM import gives the function.
const terser = terserPlugin as unknown as typeof terserPlugin.default;

/** A refused element build: the message says what to do (the CLI prints it, exit 1). */
export class ElementBuildError extends Error {
  override name = 'ElementBuildError';
}

/** What `entry.json` holds (and `atoll import-map set --entry` reads). */
export interface ElementEntryFile {
  tag: string;
  version: string;
  server: string;
  client: string;
}

/** Options of {@link buildElement}. */
export interface ElementBuildOptions {
  /** The site folder. */
  root: string;
  /** A config file instead of `<root>/atoll.config.*`. */
  configPath?: string | undefined;
  tag: string;
  /** The output folder (default `<root>/.atoll/elements`); the files go to `<outDir>/<tag>/<version>/`. */
  outDir?: string | undefined;
  /** The version folder's name (default: a content hash of both files). */
  version?: string | undefined;
  /**
   * Where `<outDir>` will be served from: the URLs in `entry.json` are
   * `<baseUrl>/<tag>/<version>/server.mjs`, …. An absolute `http(s):` or
   * `file:` URL, or a relative one (`.` by default: `./<tag>/<version>/…`,
   * which the import map resolves against its own URL).
   */
  baseUrl?: string | undefined;
  /** Rollup's warnings (default: ignored). */
  onWarning?: ((message: string) => void) | undefined;
}

/** What {@link buildElement} produced. */
export interface ElementBuildResult {
  tag: string;
  version: string;
  /** The version folder, `<outDir>/<tag>/<version>`. */
  dir: string;
  entry: ElementEntryFile;
  /** Sizes of the two modules (bytes, and gzip for the client). */
  server: { bytes: number };
  client: { bytes: number; gzip: number };
  /** True when the folder already held this exact build (only entry.json was written). */
  unchanged: boolean;
  /** Milliseconds the build took. */
  ms: number;
}

const TAG_RE = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;
/** A version: a folder name and a URL path segment, nothing to escape. */
const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HYDRATE_SUPPORT = '@lit-labs/ssr-client/lit-element-hydrate-support.js';
const SERVER_ENTRY = '\0atoll-element-server';
const BARE = /^(?![./]|[a-z][a-z0-9+.-]*:)/i;
const BUILTINS = new Set(builtinModules);
/** The server module's language level: Atoll's oldest Node (package.json `engines`), not the builder's. */
const SERVER_TARGET = 'node20';
/** The hash length of a default version (hex digits: 48 bits). */
const VERSION_DIGITS = 12;

/** Checks a `--version`: a message, or undefined when it is fine. */
export function versionProblem(version: string): string | undefined {
  if (VERSION_RE.test(version) && !/^\.+$/.test(version)) return undefined;
  return `--version "${printable(version)}": use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (it becomes a folder and a URL segment), e.g. 1.4.0 or 2026-12-02`;
}

/**
 * Checks a `--base-url` and gives it without a trailing slash. An absolute
 * `http:`, `https:` or `file:` URL without credentials, query or fragment,
 * or a relative path (`.`, `./cdn`, `/elements`); characters that a URL
 * would have to escape (spaces, quotes, `<`, `>`, `\`, controls, non-ASCII)
 * are refused rather than escaped, so the URL in entry.json is the one typed.
 */
export function checkBaseUrl(base: string): { ok: true; base: string } | { ok: false; message: string } {
  const bad = (why: string): { ok: false; message: string } => ({ ok: false, message: `--base-url "${printable(base)}": ${why}` });
  if (base === '') return bad('give a URL, e.g. https://cdn.example.com/elements');
  if (base.length > 2000) return bad('longer than 2000 characters');
  const odd = /[^A-Za-z0-9\-._~:/!$&()*+,;=%@]/.exec(base);
  if (odd !== null) return bad(`${describeChar(odd[0])} is not allowed in it (write a plain URL, escaped where it must be)`);
  if (/%(?![0-9A-Fa-f]{2})/.test(base)) return bad('a "%" must start an escape such as %20');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(base)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme !== 'http' && scheme !== 'https' && scheme !== 'file') return bad(`"${scheme}:" URLs cannot hold modules: use http:, https: or file:`);
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      return bad('not a valid URL');
    }
    if (scheme !== 'file' && url.host === '') return bad('no host');
    if (url.username !== '' || url.password !== '') return bad('credentials do not belong in a URL that goes to every browser');
  } else if (base.startsWith('//')) {
    return bad('a scheme-relative URL ("//host") is ambiguous: write https://host/…');
  }
  return { ok: true, base: base.length > 1 ? base.replace(/\/+$/, '') : base };
}

/** Builds one element of a site into `<outDir>/<tag>/<version>/` (see the top of this file). */
export async function buildElement(options: ElementBuildOptions): Promise<ElementBuildResult> {
  const started = performance.now();
  const { tag } = options;
  if (!TAG_RE.test(tag)) {
    throw new ElementBuildError(`"${printable(tag)}" is not a custom element name (lower case, starting with a letter, with a "-": e.g. team-greeting)`);
  }
  if (options.version !== undefined) {
    const problem = versionProblem(options.version);
    if (problem !== undefined) throw new ElementBuildError(problem);
  }
  const base = checkBaseUrl(options.baseUrl ?? '.');
  if (!base.ok) throw new ElementBuildError(base.message);

  const root = resolve(options.root);
  if (!existsSync(root)) throw new ElementBuildError(`the site folder ${root} does not exist`);
  // The registry only: config + elements/ (a module of another element that
  // throws on import must not stop this build). Problems in the config are
  // reported as start-up problems are (SiteError, file:line:col).
  installResolveHooks();
  const problems = new ProblemList();
  const source = await readConfigFile(root, problems, options.configPath);
  const { config, locate } = resolveConfigSources(source, undefined, problems);
  const registry = buildRegistry(root, config, locate, problems);
  problems.throwIfAny();

  const def = registry.get(tag);
  if (def === undefined) {
    const known = [...registry.values()].filter((d) => d.kind === 'module').map((d) => d.tag);
    throw new ElementBuildError(
      `the site has no element <${tag}>` +
        (known.length === 0 ? ' (and no module elements at all: elements/<tag>/index.ts, or "elements" in the config)' : `; its elements: ${known.join(', ')}`),
    );
  }
  const { serverFile, clientFile } = elementFiles(root, def);
  const serverHooks = new Set<string>();
  for (const d of registry.values()) if (d.hooksFile !== undefined) serverHooks.add(resolve(d.hooksFile));
  const warn = (log: RollupLog): void => {
    if (log.code === 'CIRCULAR_DEPENDENCY' && /node_modules/.test(log.message)) return;
    options.onWarning?.(log.message);
  };

  const server = await bundleServer(serverFile, def.hooksFile === undefined ? undefined : resolve(def.hooksFile), warn);
  const client = await bundleClient(tag, clientFile, serverHooks, warn);
  const version =
    options.version ??
    createHash('sha256').update(`atoll-element/1\0${tag}\0`).update(server).update('\0').update(client).digest('hex').slice(0, VERSION_DIGITS);

  const outDir = resolve(options.outDir ?? join(root, '.atoll', 'elements'));
  const dir = join(outDir, tag, version);
  const prefix = `${base.base === '/' ? '' : base.base}/${tag}/${version}`;
  const entry: ElementEntryFile = { tag, version, server: `${prefix}/server.mjs`, client: `${prefix}/client.mjs` };
  const entryText = JSON.stringify(entry, null, 2) + '\n';
  let unchanged: boolean;
  try {
    unchanged = writeVersion(dir, { 'server.mjs': server, 'client.mjs': client }, entryText);
  } catch (e) {
    if (e instanceof ElementBuildError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new ElementBuildError(`cannot write ${dir}${err.path !== undefined && err.path !== dir ? ` (${err.path})` : ''}: ${err.code ?? err.message} — give --out a folder you can write to`);
  }
  return {
    tag,
    version,
    dir,
    entry,
    server: { bytes: Buffer.byteLength(server) },
    client: { bytes: Buffer.byteLength(client), gzip: gzipSync(client, { level: 9 }).length },
    unchanged,
    ms: performance.now() - started,
  };
}

/** What `atoll build --element` prints. */
export function formatElementBuild(result: ElementBuildResult, cwd = process.cwd()): string {
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
  const shown = relative(cwd, result.dir) || '.';
  const dir = shown.startsWith('..') ? result.dir : shown;
  return (
    `${result.unchanged ? 'unchanged' : 'built'} <${result.tag}> version ${result.version} in ${dir} (${Math.round(result.ms)} ms)\n` +
    `  server.mjs  ${kb(result.server.bytes)}\n` +
    `  client.mjs  ${kb(result.client.bytes)} (${kb(result.client.gzip)} gzip)\n` +
    `  entry.json  server: ${result.entry.server}\n` +
    `              client: ${result.entry.client}\n` +
    `Upload ${dir} to <base-url>/${result.tag}/${result.version}/, then: atoll import-map set ${result.tag} --entry ${join(dir, 'entry.json')} --map <your import map>\n`
  );
}

/** The element's server module file and its browser module file. */
function elementFiles(root: string, def: ElementDefinition): { serverFile: string; clientFile: string } {
  if (def.kind === 'remote') {
    throw new ElementBuildError(`<${def.tag}> is a remote element (its markup comes from ${def.url}): it is built and deployed by the site that serves it`);
  }
  if (def.moduleUrl === undefined || !def.moduleUrl.startsWith('file:')) {
    throw new ElementBuildError(`<${def.tag}>: its module ${def.moduleSource ?? def.moduleUrl ?? ''} is not a file that can be bundled`);
  }
  const serverFile = fileURLToPath(def.moduleUrl);
  if (def.client === undefined) return { serverFile, clientFile: serverFile };
  if (/^https?:\/\//i.test(def.client)) {
    throw new ElementBuildError(`<${def.tag}>: its browser module is already at ${def.client} (elements.${def.tag}.client), so there is no client to build: deploy it where it is served`);
  }
  let url: string;
  try {
    url = resolveModule(root, def.client);
  } catch (e) {
    throw new ElementBuildError(`<${def.tag}>: elements.${def.tag}.client "${def.client}" cannot be resolved: ${(e as Error).message}`);
  }
  if (!url.startsWith('file:')) throw new ElementBuildError(`<${def.tag}>: elements.${def.tag}.client resolves to ${url}, not a file`);
  return { serverFile, clientFile: fileURLToPath(url) };
}

/** The server module: the element and `export *` of its hooks, site code bundled, bare imports left as they are. */
async function bundleServer(moduleFile: string, hooksFile: string | undefined, warn: (log: RollupLog) => void): Promise<string> {
  const { engineDirs } = engineLocation();
  const entry: Plugin = {
    name: 'atoll-element-server-entry',
    resolveId: (source) => (source === SERVER_ENTRY ? source : null),
    load(id) {
      if (id !== SERVER_ENTRY) return null;
      return `import ${JSON.stringify(moduleFile)};\n` + (hooksFile === undefined ? '' : `export * from ${JSON.stringify(hooksFile)};\n`);
    },
  };
  const resolution: Plugin = {
    name: 'atoll-element-server-resolution',
    async resolveId(source, importer, opts) {
      if (source.startsWith('\0') || importer === undefined) return null;
      // Packages and built-ins come from the serving site (one Lit, one atoll-ssr).
      if (source.startsWith('node:') || BUILTINS.has(source) || BARE.test(source)) return { id: source, external: true };
      const resolved = await this.resolve(source, importer, { ...opts, skipSelf: true });
      if (resolved !== null || importer.startsWith('\0') || !/^\.\.?\//.test(source)) return resolved;
      // As on the server: `./x.js` finds `./x.ts`, `./x` finds `./x.ts`, `./x/index.ts`, ….
      for (const candidate of siteCandidates(source)) {
        const file = resolve(dirname(importer), candidate);
        if (existsSync(file) && statSync(file).isFile()) return file;
      }
      return null;
    },
    async transform(code, id) {
      if (id.startsWith('\0') || !/\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/.test(id) || !isSiteFile(id, engineDirs)) return null;
      let compiled: { code: string; map: string; syntax: 'esm' | 'cjs' | undefined };
      try {
        compiled = (await compileSiteFile(id, code, { target: SERVER_TARGET })) as typeof compiled;
      } catch (e) {
        const at = (e as { at?: unknown }).at;
        return this.error(typeof at === 'string' ? `${at}: ${(e as Error).message}` : (e as Error).message);
      }
      if (siteFormat(id, compiled.syntax) === 'commonjs') {
        return this.error(`${id} is CommonJS: an element's server module is one ES module, so its site files must be ES modules too (import/export, or a .mjs/.mts name)`);
      }
      // JavaScript runs as written; TypeScript as the server compiles it.
      if (!/\.(ts|mts|cts|tsx)$/.test(id)) return null;
      return { code: compiled.code, map: compiled.map === '' ? null : compiled.map };
    },
  };
  const bundle = await rollupOrExplain(() =>
    rollup({ input: { server: SERVER_ENTRY }, plugins: [entry, resolution], onwarn: warn, preserveEntrySignatures: 'strict' }),
  );
  try {
    const { output } = await rollupOrExplain(() => bundle.generate({ format: 'es', inlineDynamicImports: true }));
    const chunk = onlyChunk(output, 'server');
    const relativeImport = [...chunk.imports, ...chunk.dynamicImports].find((s) => !BARE.test(s) && !s.startsWith('node:'));
    if (relativeImport !== undefined) throw new ElementBuildError(`server.mjs would import "${relativeImport}", which cannot be downloaded with it`);
    return chunk.code;
  } finally {
    await bundle.close();
  }
}

/** The browser module: the client build's element entry, bundled whole (Lit included) and minified. */
async function bundleClient(tag: string, file: string, serverHooks: ReadonlySet<string>, warn: (log: RollupLog) => void): Promise<string> {
  const bundle = await rollupOrExplain(() =>
    rollup({
      input: { [tag]: elementEntryId(tag) },
      plugins: [
        elementEntries(new Map([[tag, file]]), HYDRATE_SUPPORT),
        siteResolution({ atollRoot: ATOLL_ROOT, serverHooks }),
        nodeResolve({ browser: true, extensions: ['.mjs', '.js', '.ts', '.mts', '.json'] }),
        esbuild({ target: CLIENT_TARGET, tsconfig: false, define: { 'process.env.NODE_ENV': '"production"' } }),
      ],
      onwarn: warn,
    }),
  );
  try {
    const { output } = await rollupOrExplain(() =>
      bundle.generate({ format: 'es', inlineDynamicImports: true, plugins: [terser({ ecma: 2020, module: true, format: { comments: false } })] }),
    );
    const chunk = onlyChunk(output, 'client');
    const left = [...chunk.imports, ...chunk.dynamicImports];
    if (left.length > 0) throw new ElementBuildError(`client.mjs would still import ${left.map((s) => `"${s}"`).join(', ')}: the browser module must be self-contained`);
    return chunk.code;
  } finally {
    await bundle.close();
  }
}

function onlyChunk(output: ReadonlyArray<OutputChunk | OutputAsset>, what: string): OutputChunk {
  const chunks = output.filter((o): o is OutputChunk => o.type === 'chunk');
  if (chunks.length !== 1) throw new ElementBuildError(`${what}.mjs: rollup produced ${chunks.length} chunks instead of one`);
  return chunks[0]!;
}

/** Rollup's errors as messages that point at file:line:col. */
async function rollupOrExplain<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ElementBuildError) throw e;
    const err = e as { message?: unknown; loc?: { file?: string; line?: number; column?: number }; id?: unknown; frame?: unknown; plugin?: unknown };
    let message = typeof err.message === 'string' ? err.message : String(e);
    // Plugins prefix their name ("[plugin atoll-…] "): the reader needs the file, not the plugin.
    message = message.replace(/^\[plugin [^\]]+\] /, '');
    // …and rollup its own relative id, where the message names the file already.
    const prefixed = /^([^\s]+?): ([\s\S]*)$/.exec(message);
    if (prefixed !== null && typeof err.id === 'string' && prefixed[2]!.includes(err.id)) message = prefixed[2]!;
    const loc = err.loc;
    const at = loc?.file !== undefined && loc.line !== undefined ? `${shownPath(loc.file)}:${loc.line}:${(loc.column ?? 0) + 1}` : undefined;
    if (at !== undefined && !message.includes(at) && !message.includes(loc!.file!)) message = `${at}: ${message}`;
    throw new ElementBuildError(message + (typeof err.frame === 'string' && err.frame !== '' ? `\n${err.frame}` : ''));
  }
}

/**
 * Writes a version folder whole, or finds it already there. Returns true
 * when it held these exact modules (entry.json is then rewritten: the base
 * URL may differ); throws when it holds other ones.
 */
function writeVersion(dir: string, modules: Record<string, string>, entryText: string): boolean {
  const same = (): boolean => Object.entries(modules).every(([name, text]) => {
    try {
      return readFileSync(join(dir, name), 'utf8') === text;
    } catch {
      return false;
    }
  });
  const refuse = (): never => {
    throw new ElementBuildError(
      `${dir} already holds a different build under this version: versions are immutable (browsers and CDNs cache them for good). Give another --version, or leave it out to name the version by content`,
    );
  };
  const writeEntry = (): void => {
    const tmp = join(dir, `.entry.json.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(tmp, entryText);
    renameSync(tmp, join(dir, 'entry.json'));
  };
  if (existsSync(dir)) {
    if (!same()) refuse();
    writeEntry();
    return true;
  }
  const parent = dirname(dir);
  makeFolders(parent);
  const tmp = join(parent, `.${dir.slice(parent.length + 1)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(tmp);
  try {
    for (const [name, text] of Object.entries(modules)) writeFileSync(join(tmp, name), text);
    writeFileSync(join(tmp, 'entry.json'), entryText);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another build of the same version finished first: fine if it is this one.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(dir)) throw e;
      if (!same()) refuse();
      return true;
    }
    return false;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * `mkdir -p` one level at a time: Node 20's `mkdirSync(…, { recursive: true })`
 * never returns for some paths it cannot create (e.g. under /proc); this
 * fails at the first level that cannot be made.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

/** A value from the command line as it can be shown in a message (controls escaped, long values cut). */
function printable(value: string): string {
  const shown = JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value).slice(1, -1);
  return shown;
}

function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  const code = c.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  if (code > 0x7e) return `"${c}" (non-ASCII: escape it, e.g. ${encodeURIComponent(c)})`;
  return `"${c}"`;
}

/** `atoll build --element …` on the command line: prints the result or the refusal; returns the exit code. */
export async function runElementBuild(options: Omit<ElementBuildOptions, 'tag' | 'onWarning'> & { tag: string | undefined }): Promise<number> {
  if (options.tag === undefined) {
    process.stderr.write('atoll build: --version and --base-url go with --element TAG (the element to build)\n');
    return 2;
  }
  try {
    const result = await buildElement({ ...options, tag: options.tag, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
    process.stdout.write(formatElementBuild(result));
    return 0;
  } catch (e) {
    if (!(e instanceof ElementBuildError)) throw e;
    process.stderr.write(`atoll build --element: ${e.message}\n`);
    return 1;
  }
}
