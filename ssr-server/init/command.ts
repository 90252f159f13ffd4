/**
 * `atoll init [dir]`: writes a minimal site (one element, one route, an
 * element test, a README) that runs with two commands.
 * Contract for cli.ts: it passes the positionals after `init`.
 *
 * It writes only into a folder that is missing or empty (a `.git` folder
 * alone is allowed), never over a file: every file is created exclusively,
 * and what it created is removed again when a write fails.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteFiles, type TemplateValues } from './templates.ts';

/** Options of `atoll init`. */
export interface InitOptions {
  /** The folder to create or fill (default: the current folder); must be empty or missing. */
  dir: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** What relative paths resolve against (default `process.cwd()`). */
  cwd?: string;
}

/** The name on npm of Atoll's package, which the site depends on. */
export const PACKAGE_NAME = 'atoll-ssr';

/** Longest package name npm accepts. */
const MAX_NAME = 214;

/**
 * A valid npm package name from a folder name: lower case; runs of anything
 * but `a-z 0-9 - . _ ~` become `-`; no leading `.`/`_`/`-`; not a Node
 * built-in module or a name npm reserves; `atoll-site` when nothing is left.
 */
export function packageNameFor(folder: string): string {
  let name = folder
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._~-]+/, '')
    .replace(/-+$/, '')
    .slice(0, MAX_NAME)
    .replace(/[._~-]+$/, '');
  if (name === '') return 'atoll-site';
  if (name === 'node_modules' || name === 'favicon.ico' || builtinModules.includes(name)) name = `${name}-site`;
  return name;
}

/** Atoll's own package.json (found upwards from this file: the source and `dist/` layouts differ). */
function ownPackage(): { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') {
        return {
          version: pkg.version,
          dependencies: (pkg.dependencies ?? {}) as Record<string, string>,
          devDependencies: (pkg.devDependencies ?? {}) as Record<string, string>,
        };
      }
    } catch {
      // not here: go up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`${PACKAGE_NAME}'s package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** `^x.y.z` from a pinned or ranged version; `fallback` when there is none. */
const caret = (version: string | undefined, fallback: string): string => {
  const m = /(\d+\.\d+\.\d+(?:-[\w.]+)?)/.exec(version ?? '');
  return `^${m ? m[1] : fallback}`;
};

/** The versions the site's package.json asks for: Atoll's own, and the ones Atoll is tested with. */
export function siteVersions(): TemplateValues['versions'] {
  const own = ownPackage();
  const all = { ...own.devDependencies, ...own.dependencies };
  return {
    atoll: caret(own.version, '0.1.0'),
    lit: caret(all.lit, '3.3.0'),
    happyDom: caret(all['happy-dom'], '21.0.0'),
    tsx: caret(all.tsx, '4.20.0'),
  };
}

/** Control characters shown as escapes, so a hostile folder name cannot rewrite the terminal. */
const shown = (path: string): string => path.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** A path as a shell argument (quoted when it needs to be). */
const shellArg = (path: string): string => (/^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`);

/** Writes the site; returns the exit code (0, or 1 when refused or failed, with the reason on stderr). */
export async function runInit(options: InitOptions): Promise<number> {
  const out = options.stdout ?? ((t: string) => process.stdout.write(t));
  const err = options.stderr ?? ((t: string) => process.stderr.write(t));
  const refuse = (message: string): number => {
    err(`atoll init: ${message}\n`);
    return 1;
  };
  const given = typeof options.dir === 'string' && options.dir !== '' ? options.dir : '.';
  if (given.includes('\0')) return refuse('the folder name contains a NUL character');
  const cwd = options.cwd ?? process.cwd();
  const target = resolve(cwd, given);

  // The folder must be missing or empty (nothing is written otherwise).
  let exists = false;
  try {
    const stat = statSync(target);
    if (!stat.isDirectory()) return refuse(`${shown(target)} exists and is not a folder`);
    exists = true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return refuse(`${shown(target)}: a parent of it is a file`);
    if (code !== 'ENOENT') return refuse(`cannot read ${shown(target)}: ${(e as Error).message}`);
  }
  if (exists) {
    let entries: string[];
    try {
      entries = readdirSync(target).filter((n) => n !== '.git');
    } catch (e) {
      return refuse(`cannot read ${shown(target)}: ${(e as Error).message}`);
    }
    if (entries.length > 0) {
      const list = entries.slice(0, 5).map(shown).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '');
      return refuse(`${shown(target)} is not empty (${list}): give a new or empty folder, e.g. \`atoll init my-site\``);
    }
  }

  let versions: TemplateValues['versions'];
  try {
    versions = siteVersions();
  } catch (e) {
    return refuse((e as Error).message);
  }
  const name = packageNameFor(basename(target));
  const files = siteFiles({ name, versions });

  // Exclusive creates; on any failure, remove what this run created.
  const createdFiles: string[] = [];
  const createdDirs: string[] = [];
  const ensureDir = (dir: string): void => {
    const missing: string[] = [];
    for (let d = dir; ; d = dirname(d)) {
      try {
        if (!statSync(d).isDirectory()) throw Object.assign(new Error(`${d} is not a folder`), { code: 'ENOTDIR' });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        missing.unshift(d);
        if (dirname(d) === d) break;
      }
    }
    for (const d of missing) {
      mkdirSync(d);
      createdDirs.push(d);
    }
  };
  try {
    ensureDir(target);
    for (const [path, content] of files) {
      const full = join(target, ...path.split('/'));
      ensureDir(dirname(full));
      writeFileSync(full, content, { flag: 'wx' });
      createdFiles.push(full);
    }
  } catch (e) {
    for (const f of createdFiles.reverse()) {
      try {
        unlinkSync(f);
      } catch {
        // already gone
      }
    }
    for (const d of createdDirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // not empty (someone else wrote there) or gone: leave it
      }
    }
    return refuse(`could not write the site into ${shown(target)}: ${(e as Error).message} (nothing was left behind)`);
  }

  const rel = relative(cwd, target);
  const cd = rel === '' ? '' : `  cd ${shown(shellArg(rel.startsWith('..') || rel.includes(`..${sep}`) ? target : rel))}\n`;
  out(
    `Created the Atoll site "${name}" in ${shown(target)}:\n` +
      files.map(([path]) => `  ${path}\n`).join('') +
      `\nNext:\n${cd}  npm install\n  npm run dev\n\nThen open http://127.0.0.1:3000/ (npm test runs the element's test).\n`,
  );
  return 0;
}
