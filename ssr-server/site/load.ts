/**
 * Loads a site folder — config, element registry, layouts — once at
 * start-up. Every problem is collected and thrown together as a `SiteError`
 * with `file:line:col` messages; warnings are returned for the caller to log.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { ElementRendererConstructor } from '@lit-labs/ssr/lib/element-renderer.js';
import { ProblemList, type SiteProblem } from '../errors.ts';
import { compileLayout } from '../layout/compile.ts';
import type { CompiledLayout } from '../layout/ops.ts';
import { DEFAULT_RENDERERS } from '../render/element.ts';
import { readConfigFile, resolveConfigSources, type AtollConfig, type ResolvedConfig } from './config.ts';
import { installResolveHooks } from './install-hooks.ts';
import { buildRegistry, loadElementModules, type ElementRegistry } from './registry.ts';
import { installShims } from './shims.ts';

/** Everything known about a site after start-up. */
export interface Site {
  /** Absolute path of the site folder. */
  root: string;
  config: ResolvedConfig;
  registry: ElementRegistry;
  /** Layouts by path prefix, longest prefix first. */
  layouts: ReadonlyArray<{ prefix: string; layout: CompiledLayout }>;
  renderers: ElementRendererConstructor[];
  /** Problems that do not stop the site (e.g. client-only tags). */
  warnings: readonly SiteProblem[];
}

/** Options for {@link loadSite}. */
export interface LoadSiteOptions {
  /** The site folder (default: the current directory). */
  root?: string;
  /** A config file to use instead of `atoll.config.*` in the root. */
  configPath?: string;
  /**
   * Config given in code; merged over the file's (top-level keys replace the
   * file's, `elements` merge by tag) and checked with it. Problems in it are
   * reported at `(createAtoll config)`.
   */
  config?: AtollConfig;
}

/** Loads and checks a site. Throws `SiteError` listing every problem. */
export async function loadSite(options: LoadSiteOptions = {}): Promise<Site> {
  const root = resolve(options.root ?? '.');
  const problems = new ProblemList();
  if (!existsSync(root)) {
    problems.error({ file: root }, 'the site folder does not exist');
    problems.throwIfAny();
  }
  installResolveHooks();
  // The file's config and the config given in code are checked as one
  // object (code wins per key, `elements` merge by tag); each problem is
  // reported where its key was written.
  const source = await readConfigFile(root, problems, options.configPath);
  const { config, locate } = resolveConfigSources(source, options.config, problems);
  const registry = buildRegistry(root, config, locate, problems);
  // Shims first (process-wide globals: see shims.ts); element modules only
  // when they all installed (else each would fail for want of them).
  const shims = await installShims(root, config, locate, problems);
  if (shims.ok) await loadElementModules(root, registry, problems, { timeoutMs: config.ssr?.importTimeout, shimsInstalled: shims.installed });

  const layoutFiles = new Map<string, string>(Object.entries(config.layouts ?? {}));
  if (!layoutFiles.has('/')) layoutFiles.set('/', 'index.html');
  const warnedTags = new Set<string>();
  const layouts: Array<{ prefix: string; layout: CompiledLayout }> = [];
  for (const [prefix, name] of layoutFiles) {
    const path = join(root, 'layouts', name);
    const shown = relative(process.cwd(), path);
    const file = shown === '' || shown.startsWith('..') ? path : shown;
    if (!existsSync(path)) {
      problems.error({ file }, prefix === '/' && !config.layouts?.['/']
        ? 'the site has no layouts/index.html (every site needs one, or a layout for "/" in atoll.config)'
        : `the layout for "${prefix}" does not exist`);
      continue;
    }
    const layout = compileLayout({
      file,
      source: readFileSync(path, 'utf8'),
      isElement: (tag) => registry.has(tag),
      problems,
      warnedTags,
    });
    layouts.push({ prefix: prefix.replace(/\/+$/, '') || '/', layout });
  }
  layouts.sort((a, b) => b.prefix.length - a.prefix.length);
  problems.throwIfAny();
  return {
    root,
    config,
    registry,
    layouts,
    renderers: [...(config.renderers ?? []), ...DEFAULT_RENDERERS],
    warnings: problems.warnings,
  };
}

/** The layout serving `pathname`: the longest matching prefix. */
export function layoutFor(site: Site, pathname: string): CompiledLayout {
  for (const { prefix, layout } of site.layouts) {
    if (prefix === '/' || pathname === prefix || pathname.startsWith(prefix + '/')) return layout;
  }
  return site.layouts[site.layouts.length - 1]!.layout;
}
