/** The servers under test, in the order they run and are shown. */
import type { ScenarioName } from './scenarios.ts';

export interface ServerSpec {
  name: string;
  /** Under `bench/servers/`. */
  file: string;
  /** Extra environment for its process. */
  env?: Readonly<Record<string, string>>;
  scenarios: readonly ScenarioName[];
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
];
