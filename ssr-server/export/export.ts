/**
 * `atoll export`: the whole site as static files (docs/export.md). Every
 * page is rendered in-process through `atoll.request()` — the same engine
 * as `atoll serve` — and written as `<path>/index.html`; the client build
 * is copied to `_atoll/assets/`, `public/` to the root; `sitemap.xml`,
 * `robots.txt`, `404.html`, the redirect map (`_redirects`,
 * `redirects.json`) and meta-refresh pages come from the same list.
 *
 * Pages are listed from the layouts' op trees: a route without parameters
 * is one page; a route with `:name` parameters gets one page per record
 * that the `paths()` hooks of the elements under it (or under its enclosing
 * routes) return. The output is written to a temporary sibling folder and
 * renamed into place, so a failed export leaves the previous one as it was.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, parse, relative, resolve } from 'node:path';
import { createAtoll, type Atoll } from '../index.ts';
import { escapeAttr, escapeText } from '../html.ts';
import type { Logger } from '../log.ts';
import type { Op, RedirectOp, RouteOp } from '../layout/ops.ts';
import { buildFolder } from '../build/client.ts';
import { readManifest } from '../build/manifest.ts';
import { PublicFiles } from '../assets/public.ts';
import { FALLBACK } from '../../islands/protocol.ts';

/** The file that marks a folder as an export of Atoll's (only such a folder is replaced). */
export const EXPORT_MARKER = '.atoll-export';
/** Most records one `paths()` hook may return. */
export const MAX_PATHS_PER_HOOK = 10_000;
/** Most pages one export writes. */
export const MAX_PAGES = 50_000;
/** Longest parameter value from `paths()`, in characters. */
export const MAX_PARAM_LENGTH = 200;
/** How long one `paths()` hook may take. */
export const PATHS_TIMEOUT_MS = 10_000;
/** Pages rendered at a time by default. */
export const DEFAULT_CONCURRENCY = 3;

/** Options of {@link exportSite}. */
export interface ExportOptions {
  /** The site folder (default: the working directory). */
  root?: string;
  /** An explicit config file. */
  configPath?: string;
  /** The output folder (default `<root>/.atoll/export`), resolved against the working directory. */
  out?: string;
  /** The origin for the sitemap's absolute URLs (default: the config's `publicOrigin`). */
  origin?: string;
  /** Pages rendered at a time: 1 to 4 (default 3). */
  concurrency?: number;
  /** How long one `paths()` hook may take, in ms (default {@link PATHS_TIMEOUT_MS}). */
  pathsTimeoutMs?: number;
  logger?: Logger;
}

/** One redirect of the export. */
export interface ExportedRedirect {
  from: string;
  to: string;
  status: number;
}

/** What an export wrote. */
export interface ExportResult {
  out: string;
  /** URL paths of the pages written, sorted. */
  pages: string[];
  redirects: ExportedRedirect[];
  /** Files copied from the client build and public/. */
  assets: number;
  publicFiles: number;
  /** The origin the sitemap used, or undefined when there is no sitemap. */
  origin: string | undefined;
  /** Things left out, each a sentence (wildcard routes, no origin…). */
  notes: string[];
  ms: number;
}

/** An export that could not complete; the message names the page, element or folder. */
export class ExportError extends Error {
  override name = 'ExportError';
}

interface RouteEntry {
  route: RouteOp;
  /** Element tags under this route or its enclosing routes. */
  tags: Set<string>;
}

/** Routes (with the element tags in scope), redirects and route-less layout prefixes. */
function collectRoutes(atoll: Atoll): { routes: RouteEntry[]; redirects: RedirectOp[]; plain: string[] } {
  const routes: RouteEntry[] = [];
  const redirects: RedirectOp[] = [];
  const plain: string[] = [];
  const tagsOf = (ops: readonly Op[], into: Set<string>): void => {
    for (const op of ops) {
      if (op.kind === 'element') {
        into.add(op.tag);
        tagsOf(op.children, into);
      }
    }
  };
  const walk = (ops: readonly Op[], inherited: ReadonlySet<string>): void => {
    for (const op of ops) {
      if (op.kind === 'redirect') redirects.push(op);
      else if (op.kind === 'element') walk(op.children, inherited);
      else if (op.kind === 'route') {
        const tags = new Set(inherited);
        tagsOf(op.children, tags);
        if (op.pattern !== undefined) routes.push({ route: op, tags });
        walk(op.children, tags);
      }
    }
  };
  for (const { prefix, layout } of atoll.site.layouts) {
    const top = new Set<string>();
    tagsOf(layout.ops, top);
    walk(layout.ops, top);
    if (!layout.hasRoutes) plain.push(prefix);
  }
  return { routes, redirects, plain };
}

const PARAM = /^:([A-Za-z_$][\w$]*)$/;

/** The segments of a pattern that only has literal segments and `:name` ones, else undefined. */
function simpleSegments(source: string): string[] | undefined {
  if (!source.startsWith('/')) return undefined;
  const segments = source.split('/').slice(1);
  for (const s of segments) {
    if (PARAM.test(s)) continue;
    if (/[:*(){}?+\\]/.test(s)) return undefined;
  }
  return segments;
}

/** Why a parameter value cannot be a path segment of the export, or undefined when it can. */
export function badParamValue(value: unknown): string | undefined {
  if (typeof value !== 'string') return `is ${value === null ? 'null' : typeof value}, not a string`;
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_PARAM_LENGTH) return `is longer than ${MAX_PARAM_LENGTH} characters`;
  if (value === '.' || value === '..') return `is "${value}"`;
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(value)) return 'contains "/", "\\" or a control character';
  if (value !== value.normalize('NFC')) return 'is not in Unicode NFC form';
  if (/^\s|\s$/.test(value)) return 'starts or ends with white space';
  return undefined;
}

const show = (v: unknown): string => {
  let text: string;
  try {
    text = typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? typeof v);
  } catch {
    text = Object.prototype.toString.call(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** Calls a `paths()` hook with a time limit and checks its shape. */
async function callPaths(atoll: Atoll, tag: string, timeoutMs: number): Promise<Array<Record<string, string>>> {
  const def = atoll.site.registry.get(tag);
  const hook = def?.kind === 'module' ? def.hooks?.paths : undefined;
  if (hook === undefined) return [];
  const where = `<${tag}>'s paths() (${def?.kind === 'module' ? (def.hooksFile ?? 'server hooks') : ''})`;
  let timer: NodeJS.Timeout | undefined;
  let result: unknown;
  try {
    result = await Promise.race([
      Promise.resolve().then(() => hook()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new ExportError(`${where} did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    if (e instanceof ExportError) throw e;
    throw new ExportError(`${where} threw: ${e instanceof Error ? e.message : show(e)}`);
  } finally {
    clearTimeout(timer);
  }
  if (!Array.isArray(result)) throw new ExportError(`${where} must return an array of parameter records, e.g. [{ id: "p1" }]; it returned ${show(result)}`);
  if (result.length > MAX_PATHS_PER_HOOK) throw new ExportError(`${where} returned ${result.length} records; at most ${MAX_PATHS_PER_HOOK} are allowed`);
  const records: Array<Record<string, string>> = [];
  for (const [i, record] of result.entries()) {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ExportError(`${where}: record ${i} must be an object of parameter values, got ${show(record)}`);
    }
    const checked: Record<string, string> = {};
    const entries = Object.entries(record as Record<string, unknown>);
    if (entries.length > 32) throw new ExportError(`${where}: record ${i} has ${entries.length} keys; a record gives at most 32 parameter values`);
    for (const [name, value] of entries) {
      const bad = badParamValue(value);
      if (bad !== undefined) throw new ExportError(`${where}: record ${i}, parameter "${name.slice(0, 50)}" ${bad} (${show(value)})`);
      checked[name] = value as string;
    }
    records.push(checked);
  }
  return records;
}

/** Runs `work` over `items`, `limit` at a time; the first failure rejects (the rest still settle). */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const runner = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  if (failure !== undefined) throw failure.error;
}

/** The file a URL path is written to (`/a/b` → `<out>/a/b/index.html`), checked to stay inside `out`. */
function pageFile(out: string, path: string): string {
  const segments = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  for (const s of segments) {
    if (s === '.' || s === '..' || /[/\\\u0000]/.test(s)) throw new ExportError(`the page ${path} cannot be written as a file (segment ${show(s)})`);
  }
  const file = join(out, ...segments, 'index.html');
  const rel = relative(out, file);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new ExportError(`the page ${path} would be written outside ${out}`);
  return file;
}

/** True when `inner` is `outer` or inside it. */
const within = (outer: string, inner: string): boolean => {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** `path` with symbolic links resolved as far as it exists (the rest appended). */
function realish(path: string): string {
  let rest = '';
  let dir = path;
  for (;;) {
    try {
      return join(realpathSync(dir), rest);
    } catch {
      const up = dirname(dir);
      if (up === dir) return path;
      rest = join(basename(dir), rest);
      dir = up;
    }
  }
}

/** Checks the output folder: never the site, a folder holding it, its build or public/; a non-empty one only when it is an earlier export. */
export function checkOutDir(given: string, siteRoot: string, build: string): void {
  // Through symbolic links too: an --out that is a link to the site is the site.
  const out = realish(given);
  const root = realish(siteRoot);
  const buildDir = realish(build);
  if (out === parse(out).root) throw new ExportError(`refusing to export into ${out}: it is a file system root`);
  if (within(out, root)) throw new ExportError(`refusing to export into ${out}: it is the site folder or holds it (${root}); give --out a folder of its own`);
  if (within(out, buildDir) || within(buildDir, out)) throw new ExportError(`refusing to export into ${out}: it overlaps the client build folder ${buildDir}`);
  for (const dir of ['layouts', 'elements', 'public']) {
    if (within(join(root, dir), out)) throw new ExportError(`refusing to export into ${out}: it is inside the site's ${dir}/ folder`);
  }
  if (!existsSync(out)) return;
  if (!lstatSync(out).isDirectory()) throw new ExportError(`refusing to export into ${out}: it is not a folder`);
  if (readdirSync(out).length > 0 && !existsSync(join(out, EXPORT_MARKER))) {
    throw new ExportError(`refusing to export into ${out}: the folder is not empty and holds no ${EXPORT_MARKER} marker of an earlier export (empty it, or pick another --out)`);
  }
}

/** Checks an origin for the sitemap: `http(s)://host[:port]`, no path. */
export function checkOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new ExportError(`--origin ${show(origin)} is not a URL (give e.g. https://shop.example)`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new ExportError(`--origin ${show(origin)} must be an http(s) origin with no path, e.g. https://shop.example`);
  }
  return url.origin;
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** A page that sends the browser on to `to` (meta refresh, canonical link, a plain link). */
export function refreshPage(to: string): string {
  const href = escapeAttr(to);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Redirecting to ${escapeText(to)}</title>` +
    `<meta http-equiv="refresh" content="0; url=${href}"><meta name="robots" content="noindex"><link rel="canonical" href="${href}"></head>` +
    `<body><p>This page has moved to <a href="${href}">${escapeText(to)}</a>.</p></body></html>\n`;
}

/** Renders and writes the whole site. Throws {@link ExportError} (or the site's `SiteError`) when it cannot. */
export async function exportSite(options: ExportOptions = {}): Promise<ExportResult> {
  const started = performance.now();
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 4) throw new ExportError(`concurrency must be 1 to 4, got ${show(concurrency)}`);
  const given = options.origin === undefined ? undefined : checkOrigin(options.origin);
  const atoll = await createAtoll({
    root: options.root,
    configPath: options.configPath,
    // --origin is the site's public origin for this export: canonical and Open Graph URLs agree with the sitemap.
    ...(given === undefined ? {} : { config: { publicOrigin: given } }),
    logger: options.logger,
    cache: false,
    compress: false,
    client: { build: 'if-stale' },
  });
  const site = atoll.site;
  const root = resolve(site.root);
  const out = resolve(options.out ?? join(root, '.atoll', 'export'));
  const buildDir = buildFolder(site);
  checkOutDir(out, root, buildDir);
  const configured = (site.config as { publicOrigin?: unknown }).publicOrigin;
  const origin = given !== undefined ? given : typeof configured === 'string' ? checkOrigin(configured) : undefined;
  const notes: string[] = [];

  // 1. The list of paths.
  const { routes, redirects: redirectOps, plain } = collectRoutes(atoll);
  const paths = new Set<string>(plain);
  const hookCache = new Map<string, Promise<Array<Record<string, string>>>>();
  const recordsOf = (tag: string): Promise<Array<Record<string, string>>> => {
    let p = hookCache.get(tag);
    if (p === undefined) hookCache.set(tag, (p = callPaths(atoll, tag, options.pathsTimeoutMs ?? PATHS_TIMEOUT_MS)));
    return p;
  };
  /** Paths of routes that contain routes: a 404 there is no failure (an inner default route may answer it). */
  const containers = new Set<string>();
  for (const { route, tags } of routes) {
    const pattern = route.pattern!;
    // A route holding routes matches its own path and deeper ones (`/a{/*}?`, `/*` for `/`); its own path is the page.
    const container = pattern.source === '/*' ? '/' : pattern.source.endsWith('{/*}?') ? pattern.source.slice(0, -5) : undefined;
    if (container !== undefined && simpleSegments(container) !== undefined && !container.includes(':')) {
      paths.add(container);
      containers.add(container);
      continue;
    }
    const segments = simpleSegments(container ?? pattern.source);
    if (segments === undefined) {
      notes.push(`route ${pattern.source} (${route.loc.file}:${route.loc.line}:${route.loc.col}) is not exported: only literal and :name segments can be listed`);
      continue;
    }
    if (pattern.params.size === 0) {
      paths.add(pattern.source);
      continue;
    }
    let listed = 0;
    for (const tag of tags) {
      for (const record of await recordsOf(tag)) {
        if (![...pattern.params].every((name) => name in record)) continue;
        const path = segments.map((s) => {
          const m = PARAM.exec(s);
          return m === null ? s : encodeURIComponent(record[m[1]!]!);
        }).join('/');
        const full = `/${path}`;
        const matched = pattern.match(full);
        if (matched === undefined || [...pattern.params].some((name) => matched[name] !== record[name])) {
          throw new ExportError(`<${tag}>'s paths() record ${show(record)} does not give a path of route ${pattern.source}`);
        }
        paths.add(full);
        listed++;
        if (paths.size > MAX_PAGES) throw new ExportError(`more than ${MAX_PAGES} pages: the paths() hooks list too many`);
      }
    }
    if (listed === 0) notes.push(`route ${pattern.source} (${route.loc.file}:${route.loc.line}:${route.loc.col}) has parameters and no paths() hook of its elements lists values for them: no page`);
  }
  const redirectSources = new Set<string>();
  for (const r of redirectOps) {
    if (r.from.params.size === 0 && simpleSegments(r.from.source) !== undefined) {
      redirectSources.add(r.from.source);
      paths.delete(r.from.source);
    } else notes.push(`redirect from ${r.from.source} (${r.loc.file}:${r.loc.line}:${r.loc.col}) has parameters: not in the redirect map`);
  }

  // 2. Render into a temporary sibling folder.
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp);
  try {
    const pages: Array<{ path: string; noindex: boolean }> = [];
    const redirects: ExportedRedirect[] = [];
    const write = (file: string, text: string | Uint8Array): void => {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    };
    /** A file of the export's own at the root; a page folder of the same name (a route `/sitemap.xml`) is an error. */
    const fromPublic = new Set<string>();
    const writeOwn = (name: string, text: string): void => {
      if (fromPublic.has(`/${name}`)) {
        notes.push(`public/${name} is kept; the export does not write its own`);
        return;
      }
      if (existsSync(join(tmp, name))) throw new ExportError(`the page /${name} collides with the ${name} the export writes; rename the route`);
      write(join(tmp, name), text);
    };
    const render = async (path: string): Promise<void> => {
      let response: Response;
      try {
        response = await atoll.request(path, { redirect: 'manual' });
      } catch (e) {
        throw new ExportError(`the page ${path} could not be rendered: ${e instanceof Error ? e.message : show(e)}`);
      }
      const status = response.status;
      if (status >= 300 && status < 400) {
        const location = response.headers.get('location') ?? '';
        await response.body?.cancel();
        if (location === '' || !(location.startsWith('/') || /^https?:\/\//i.test(location)) || location.startsWith('//') || /\s/.test(location)) {
          throw new ExportError(`the page ${path} redirects (${status}) to ${show(location)}, which the export cannot write`);
        }
        redirects.push({ from: path, to: location, status });
        write(pageFile(tmp, path), refreshPage(location));
        return;
      }
      const html = await response.text();
      if (status === 404 && containers.has(path)) {
        notes.push(`${path} (a route holding routes) answered 404: no page`);
        return;
      }
      if (status !== 200) throw new ExportError(`the page ${path} answered ${status}${status >= 500 ? ' (a server error)' : ''}; every exported page must answer 200`);
      const failed = new RegExp(`<([a-z][\\w.-]*-[\\w.-]*)[^>]*\\s${FALLBACK}="([^"]*)"`).exec(html);
      if (failed !== null) throw new ExportError(`the page ${path}: <${failed[1]}> failed (${failed[2]}) and shows its fallback; the export does not write broken pages (see the log line for why)`);
      const noindex = /<meta\s[^>]*name="robots"[^>]*content="[^"]*noindex/i.test(html);
      pages.push({ path, noindex });
      write(pageFile(tmp, path), html);
    };
    await pool([...paths, ...redirectSources], concurrency, render);

    // 404.html: a path no route matches.
    const missing = `/__atoll-export-not-found-${randomBytes(6).toString('hex')}`;
    const notFound = await atoll.request(missing);
    const notFoundHtml = await notFound.text();
    if (notFound.status === 404) writeOwn('404.html', notFoundHtml);
    else notes.push(`no 404.html: a path no route matches answered ${notFound.status} (a layout without a default route)`);

    // The client build and public/.
    const manifest = readManifest(buildDir);
    let assets = 0;
    if (manifest === undefined) notes.push(`no client build in ${buildDir}: pages will not hydrate`);
    else {
      for (const name of Object.keys(manifest.files)) {
        const target = join(tmp, '_atoll', 'assets', name);
        if (!within(join(tmp, '_atoll', 'assets'), target) || name.includes('\0')) throw new ExportError(`the client build's manifest names ${show(name)}, outside the assets folder`);
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(join(buildDir, name), target);
        assets++;
      }
    }
    const publicDir = join(root, 'public');
    const publicList = new PublicFiles(publicDir);
    let publicFiles = 0;
    for (const urlPath of publicList.paths()) {
      const rel = urlPath.replace(/^\/+/, '');
      const target = join(tmp, ...rel.split('/'));
      if (!within(tmp, target)) continue;
      if (existsSync(target)) {
        notes.push(`public${urlPath} is not copied: a page of the same path was written`);
        continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(publicDir, ...rel.split('/')), target);
      fromPublic.add(urlPath);
      publicFiles++;
    }

    // Sitemap, robots.txt, the redirect map.
    pages.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (origin === undefined) {
      notes.push('no sitemap.xml: its URLs must be absolute; set publicOrigin in the config or give --origin');
    } else if (fromPublic.has('/sitemap.xml')) {
      notes.push('sitemap.xml comes from public/, not generated');
    } else {
      const urls = pages.filter((p) => !p.noindex).map((p) => `  <url><loc>${xml(origin + p.path)}</loc></url>\n`).join('');
      writeOwn('sitemap.xml', `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls}</urlset>\n`);
    }
    if (fromPublic.has('/robots.txt')) notes.push('robots.txt comes from public/, not generated');
    else writeOwn('robots.txt', `User-agent: *\nAllow: /\n${origin === undefined || fromPublic.has('/sitemap.xml') ? '' : `\nSitemap: ${origin}/sitemap.xml\n`}`);
    redirects.sort((a, b) => (a.from < b.from ? -1 : 1));
    writeOwn('_redirects', redirects.map((r) => `${r.from} ${r.to} ${r.status}\n`).join(''));
    writeOwn('redirects.json', `${JSON.stringify(redirects, null, 2)}\n`);
    writeOwn(EXPORT_MARKER, `${JSON.stringify({ exportedBy: 'atoll export', pages: pages.length, at: new Date().toISOString() })}\n`);

    // Into place: the earlier export (checked above to carry the marker) goes only now.
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
    return {
      out,
      pages: pages.map((p) => p.path),
      redirects,
      assets,
      publicFiles,
      origin: origin === undefined || fromPublic.has('/sitemap.xml') ? undefined : origin,
      notes,
      ms: performance.now() - started,
    };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** The export's summary for the command line. */
export function formatExport(result: ExportResult): string {
  const lines = [
    `exported ${result.pages.length} page${result.pages.length === 1 ? '' : 's'}, ${result.redirects.length} redirect${result.redirects.length === 1 ? '' : 's'}, ${result.assets} asset${result.assets === 1 ? '' : 's'}, ${result.publicFiles} public file${result.publicFiles === 1 ? '' : 's'} to ${result.out} in ${Math.round(result.ms)} ms`,
    ...result.notes.map((n) => `note: ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}
