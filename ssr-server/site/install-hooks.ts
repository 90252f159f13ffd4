/**
 * Registers Atoll's resolution hooks (see `resolve-hooks.mjs`) once per
 * process, before any site module is imported.
 */
import { register } from 'node:module';

let installed = false;

/** Installs the hooks; later calls do nothing. */
export function installResolveHooks(): void {
  if (installed) return;
  installed = true;
  const atollParent = new URL('../../package.json', import.meta.url).href;
  register(new URL('./resolve-hooks.mjs', import.meta.url), { data: { atollParent } });
}
