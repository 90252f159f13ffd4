/** The servers under test, in the order they run and are shown. */
import type { ScenarioName } from './scenarios.ts';

export interface ServerSpec {
  name: string;
  /** Under `bench/servers/`. */
  file: string;
  /** Extra environment for its process. */
  env?: Readonly<Record<string, string>>;
  scenarios: readonly ScenarioName[];
  /** Runs Atoll's engine from the `BENCH_BEFORE` checkout (an A/B in one run); only when that is set. */
  before?: true;
}

const ALL: readonly ScenarioName[] = ['load', 'slow-one', 'slow-three'];

export const SERVERS: readonly ServerSpec[] = [
  { name: 'static', file: 'static.ts', scenarios: ALL },
  { name: 'lit-stream', file: 'lit-stream.ts', scenarios: ALL },
  { name: 'lit-string', file: 'lit-string.ts', scenarios: ALL },
  { name: 'single-spa-layout', file: 'single-spa-layout.ts', scenarios: ALL },
  { name: 'tailor', file: 'tailor.ts', scenarios: ALL },
  { name: 'atoll', file: 'atoll.ts', scenarios: ALL },
  { name: 'atoll-cached', file: 'atoll.ts', env: { BENCH_ATOLL_CACHE: '1' }, scenarios: ['load'] },
  { name: 'atoll-before', file: 'atoll.ts', scenarios: ['load'], before: true },
  { name: 'atoll-cached-before', file: 'atoll.ts', env: { BENCH_ATOLL_CACHE: '1' }, scenarios: ['load'], before: true },
];

/** The name of the server a `before` server is the earlier engine of. */
export const afterName = (name: string): string => name.replace(/-before$/, '');
