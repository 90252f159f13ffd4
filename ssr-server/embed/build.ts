/**
 * Bundles `embed.js`'s code (`islands/embed.ts`) for the client build: one
 * minified ES module with the placeholder {@link EMBED_PLACEHOLDER} where the
 * server puts the site's element table (`ssr-server/embed/index.ts`).
 * Loaded only by the build (it imports rollup).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import terserPlugin from '@rollup/plugin-terser';
import { rollup } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';
import { EMBED_PLACEHOLDER } from './index.ts';

// The plugin's types describe its CommonJS build; Node's ESM import gives the function.
const terser = terserPlugin as unknown as typeof terserPlugin.default;

/** The source entry of embed.js. */
export const EMBED_SOURCE = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'islands', 'embed.ts');

/** The built embed code and the files it was built from. */
export interface BuiltEmbed {
  code: string;
  inputs: string[];
}

/** Bundles and minifies `islands/embed.ts` into one ES module. */
export async function buildEmbed(): Promise<BuiltEmbed> {
  const bundle = await rollup({
    input: EMBED_SOURCE,
    plugins: [esbuild({ target: 'es2020', tsconfig: false })],
    onwarn: () => {},
  });
  try {
    const { output } = await bundle.generate({
      format: 'es',
      plugins: [
        terser({
          ecma: 2020,
          module: true,
          compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
          format: { comments: false },
        }),
      ],
    });
    const code = output[0].code.trim();
    if (code.split(EMBED_PLACEHOLDER).length !== 2) throw new Error(`embed.js: expected the placeholder ${EMBED_PLACEHOLDER} exactly once`);
    return { code, inputs: [...bundle.watchFiles.filter((f) => !f.startsWith('\0')), fileURLToPath(import.meta.url)] };
  } finally {
    await bundle.close();
  }
}
