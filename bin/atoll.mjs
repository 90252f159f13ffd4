#!/usr/bin/env node
// Atoll's command line. Element and hook modules may be TypeScript, so tsx's
// loader is registered before anything of the site is imported.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../ssr-server/cli.ts');
process.exitCode = await main(process.argv.slice(2), { standalone: true });
