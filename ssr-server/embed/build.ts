/**
 * Bundles `embed.js`'s code (`islands/embed.ts`) for the client build: one
 * minified ES module with the placeholder {@link EMBED_PLACEHOLDER} where the
 * server puts the site's element table (`ssr-server/embed/index.ts`).
 * Loaded only by the build (it imports rollup).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleScript } from '../build/script.ts';
import { EMBED_PLACEHOLDER } from './index.ts';


/** The source entry of embed.js. */
export const EMBED_SOURCE = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'islands', 'embed.ts');

/** The built embed code and the files it was built from. */
export interface BuiltEmbed {
  code: string;
  inputs: string[];
}

/** Bundles and minifies `islands/embed.ts` into one ES module. */
export async function buildEmbed(): Promise<BuiltEmbed> {
  const { code, inputs } = await bundleScript(EMBED_SOURCE, 'es');
  if (code.split(EMBED_PLACEHOLDER).length !== 2) throw new Error(`embed.js: expected the placeholder ${EMBED_PLACEHOLDER} exactly once`);
  return { code, inputs: [...inputs, fileURLToPath(import.meta.url)] };
}
