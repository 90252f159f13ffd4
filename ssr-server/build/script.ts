/**
 * Atoll's own small browser scripts (the inline island loader, embed.js,
 * the client router):
 * each is bundled into a single minified file — esbuild for TypeScript,
 * terser tuned for size.
 *
 * From the repository checkout they are built from `islands/*.ts` when asked
 * for. The published package ships no TypeScript: the top-level
 * `rollup.config.mjs` builds the same files with the same options
 * ({@link scriptOptions}) into `dist/browser/` at `npm pack`, and
 * {@link bundleScript} reads them there when the source is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OutputOptions, RollupOptions } from 'rollup';

/** A bundled script and the files it was built from. */
export interface BundledScript {
  code: string;
  inputs: string[];
}

/** The output format: a classic script (`iife`, to inline) or an ES module (`es`). */
export type ScriptFormat = 'iife' | 'es';

/**
 * Where the prebuilt scripts live: `<package>/dist/browser/` when this module
 * runs compiled from `dist/ssr-server/build/` (in the checkout the folder
 * does not exist and the sources are used).
 */
export const PREBUILT_DIR = fileURLToPath(new URL('../../browser/', import.meta.url));

/** The scripts the package prebuilds, relative to the package root (rollup.config.mjs reads this list). */
export const PREBUILT_SCRIPTS: ReadonlyArray<{ input: string; format: ScriptFormat }> = [
  { input: 'islands/loader.ts', format: 'iife' },
  { input: 'islands/embed.ts', format: 'es' },
  // The client router (docs/navigation.md): an ES module the loader imports
  // by URL from navigation pages, `router-<hash>.js` in every build.
  { input: 'islands/router.ts', format: 'es' },
];

/** The prebuilt file name of a script: `loader.ts` as `iife` → `loader.iife.js`. */
export const prebuiltName = (input: string, format: ScriptFormat): string =>
  `${basename(input).replace(/\.[cm]?[jt]s$/, '')}.${format}.js`;

/**
 * The rollup options of one script, shared by {@link bundleScript} and the
 * package build (`rollup.config.mjs`), so that both give the same bytes.
 * `file` is the output path when rollup writes it.
 */
export async function scriptOptions(input: string, format: ScriptFormat, file?: string): Promise<RollupOptions & { output: OutputOptions }> {
  const [{ default: terserPlugin }, { default: esbuild }] = await Promise.all([import('@rollup/plugin-terser'), import('rollup-plugin-esbuild')]);
  // The plugin's types describe its CommonJS build; Node's ESM import gives the function.
  const terser = terserPlugin as unknown as typeof terserPlugin.default;
  return {
    input,
    plugins: [esbuild({ target: 'es2020', tsconfig: false })],
    onwarn: () => {},
    output: {
      ...(file === undefined ? {} : { file }),
      format,
      strict: format === 'es',
      plugins: [
        terser({
          ecma: 2020,
          module: format === 'es',
          compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
          mangle: { toplevel: true },
          format: { comments: false },
        }),
      ],
    },
  };
}

/**
 * Bundles `input` as a classic script (`iife`) or an ES module (`es`). When
 * `input` does not exist (Atoll runs from its compiled `dist/`), returns the
 * prebuilt file of the same script instead; its `inputs` is that file.
 */
export async function bundleScript(input: string, format: ScriptFormat): Promise<BundledScript> {
  if (!existsSync(input)) {
    const prebuilt = join(PREBUILT_DIR, prebuiltName(input, format));
    if (!existsSync(prebuilt)) {
      throw new Error(`Atoll's browser script ${input} is missing, and so is its prebuilt ${prebuilt} (a broken install? reinstall atoll-ssr)`);
    }
    return { code: readFileSync(prebuilt, 'utf8').trim(), inputs: [prebuilt] };
  }
  const { rollup } = await import('rollup');
  const { output: outputOptions, ...inputOptions } = await scriptOptions(input, format);
  const bundle = await rollup(inputOptions);
  try {
    const { output } = await bundle.generate(outputOptions);
    return { code: output[0].code.trim(), inputs: bundle.watchFiles.filter((f) => !f.startsWith('\0')) };
  } finally {
    await bundle.close();
  }
}
