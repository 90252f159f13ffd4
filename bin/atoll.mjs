#!/usr/bin/env node
// Atoll's command line. From the repository checkout it runs the TypeScript
// sources (through tsx; no build step); from an installed package, the
// compiled dist/. Either way, tsx's loader is registered first: a site's
// element and hook modules may be TypeScript.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Stacks point into the sources (dist's .js.map files, tsx's inline maps).
process.setSourceMapsEnabled(true);
const { register } = await import('tsx/esm/api');
register();
const source = new URL('../ssr-server/cli.ts', import.meta.url);
const cli = existsSync(fileURLToPath(source)) ? source : new URL('../dist/ssr-server/cli.js', import.meta.url);
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2), { standalone: true });
