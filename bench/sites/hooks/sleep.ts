/** A `data()` hook that only waits: how a slow element looks to Atoll. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ElementContext } from '../../../ssr-server/index.ts';

export function sleepingData(ms: number): (ctx: ElementContext) => Promise<Record<string, unknown>> {
  return async (ctx) => {
    await sleep(ms, undefined, { signal: ctx.signal });
    return {};
  };
}
