/**
 * Bundles one small browser script (the inline island loader, embed.js)
 * into a single minified file: esbuild for TypeScript, terser tuned for size.
 */
import terserPlugin from '@rollup/plugin-terser';
import { rollup } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';

// The plugin's types describe its CommonJS build; Node's ESM import gives the function.
const terser = terserPlugin as unknown as typeof terserPlugin.default;

/** A bundled script and the files it was built from. */
export interface BundledScript {
  code: string;
  inputs: string[];
}

/** Bundles `input` as a classic script (`iife`, to inline) or an ES module (`es`). */
export async function bundleScript(input: string, format: 'iife' | 'es'): Promise<BundledScript> {
  const bundle = await rollup({
    input,
    plugins: [esbuild({ target: 'es2020', tsconfig: false })],
    onwarn: () => {},
  });
  try {
    const { output } = await bundle.generate({
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
    });
    return { code: output[0].code.trim(), inputs: bundle.watchFiles.filter((f) => !f.startsWith('\0')) };
  } finally {
    await bundle.close();
  }
}
