/**
 * The package's browser parts, built at `npm pack` (the `prepack` script,
 * after tsc) into dist/: the inline island loader (a classic script),
 * embed.js and the client router (ES modules) in dist/browser/ — every
 * entry of script.ts's PREBUILT_SCRIPTS. Their options come from
 * ssr-server/build/script.ts, which builds the same files from islands/*.ts
 * when Atoll runs from the checkout, so both give the same bytes; the
 * compiled engine, which ships no TypeScript, reads these files instead.
 *
 * It also copies the engine's non-TypeScript run-time files (module hooks
 * such as ssr-server/site/resolve-hooks.mjs, which run in Node's loader
 * thread as plain JavaScript) next to the compiled modules that load them
 * with `new URL(…, import.meta.url)`.
 *
 * Run: `npx rollup -c` (tsc first: `npm run build:package` does both).
 */
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

// script.ts is TypeScript; tsx lets this config import it as the engine does.
register();
const { PREBUILT_SCRIPTS, prebuiltName, scriptOptions } = await import('./ssr-server/build/script.ts');

/** The folders compiled into dist/ (tsconfig.build.json's "include"). */
const ENGINE_DIRS = ['ssr-server', 'islands', 'testing'];

/**
 * Every file under `dir` that tsc does not put in dist/: anything but
 * TypeScript sources (hand-written .d.ts/.d.mts files, which tsc reads but
 * never copies, are included), dotfiles left out.
 */
function runtimeFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return runtimeFiles(path);
    return /\.[cm]?tsx?$/.test(name) && !/\.d\.[cm]?ts$/.test(name) ? [] : [path];
  });
}

/** Copies the non-TypeScript run-time files into dist/ at the same relative paths. */
function copyRuntimeFiles() {
  return {
    name: 'atoll-copy-runtime-files',
    writeBundle() {
      for (const file of ENGINE_DIRS.flatMap(runtimeFiles)) cpSync(file, join('dist', file));
    },
  };
}

export default Promise.all(
  PREBUILT_SCRIPTS.map(async ({ input, format }, i) => {
    const options = await scriptOptions(input, format, `dist/browser/${prebuiltName(input, format)}`);
    return i === 0 ? { ...options, plugins: [...(options.plugins ?? []), copyRuntimeFiles()] } : options;
  }),
);
