import type { ElementContext } from 'atoll-ssr';
import { RELEASE } from './release.js';

/** The attributes the element reads (what the fragment endpoint lets through). */
export const attributes = ['name'];

/** Server-side data: the greeting of this release. */
export function data(_ctx: ElementContext) {
  return { greeting: RELEASE === 'dev' ? 'Hello' : `Hello from release ${RELEASE}` };
}
