// Types of resolve-hooks.mjs (plain JavaScript: Node loads it in the hooks thread, where no TypeScript loader runs).
import type { LoadHook, ResolveHook } from 'node:module';

export declare const LIT_FAMILY: RegExp;
export declare const ENGINE_PACKAGE: 'atoll-ssr';
export declare const NODE_TARGET: string;
export declare const HELPERS_SOURCE: string;

export interface Compiled {
  /** The compiled code, without a source map comment. */
  code: string;
  /** Its source map (JSON, `sources` naming the file by its own name), or ''. */
  map: string;
  /** The module syntax the file was written in: `esm`, `cjs`, or undefined for neither. */
  syntax: 'esm' | 'cjs' | undefined;
}
export interface CompileOptions {
  target: string | string[];
  define?: Record<string, string>;
}

export declare function initialize(data: { atollParent: string; entries?: Record<string, string>; engineDirs?: string[] }): void;
export declare function isSiteFile(file: string, engine?: readonly string[]): boolean;
export declare function packageType(dir: string): 'module' | 'commonjs' | 'none';
export declare function nearestTsconfig(file: string): string | undefined;
export declare function siteFormat(file: string, syntax: 'esm' | 'cjs' | undefined): 'module' | 'commonjs';
export declare function compileSiteFile(file: string, source: string, options: CompileOptions): Promise<Compiled>;
export declare function compileSiteFileSync(file: string, source: string, options: CompileOptions): Compiled;
export declare function withInlineMap(compiled: { code: string; map: string }): string;
export declare function siteCandidates(specifier: string): string[];
export declare const resolve: ResolveHook;
export declare const load: LoadHook;
