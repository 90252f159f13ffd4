/**
 * The three situations every server is measured in. A scenario names which
 * of the page's elements are slow and by how much; every server adds the same
 * delays in its own natural way (a delayed thunk, fragment, application or
 * `data()` hook), all started when the request arrives.
 */

export type ScenarioName = 'load' | 'slow-one' | 'slow-three';

export interface Scenario {
  name: ScenarioName;
  /** Shown in tables. */
  label: string;
  /** Element tag → delay in ms (a page has some of these tags). Empty: nothing is slow. */
  delays: Readonly<Record<string, number>>;
  /** Atoll's bench-only site for this scenario (under `bench/sites/`), or undefined for the demo itself. */
  atollSite: string | undefined;
}

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  load: { name: 'load', label: 'throughput (nothing slow)', delays: {}, atollSite: undefined },
  'slow-one': {
    name: 'slow-one',
    label: 'one element 300 ms slow (`<shop-hero>`)',
    delays: { 'shop-hero': 300 },
    atollSite: 'slow-one',
  },
  'slow-three': {
    name: 'slow-three',
    label: 'three elements 200 ms slow each (`<shop-hero>`, `<shop-product-list>`, `<shop-footer>`)',
    // The hero, the page's product grid (the demo's list on /home, the bench grid on /shop-50) and the footer.
    delays: { 'shop-hero': 200, 'shop-product-list': 200, 'bench-card-grid': 200, 'shop-footer': 200 },
    atollSite: 'slow-three',
  },
};

export function isScenarioName(s: string): s is ScenarioName {
  return Object.hasOwn(SCENARIOS, s);
}

/** The scenario's label for one page: its slow elements are those of the page. */
export function scenarioLabel(scenario: Scenario, tags: readonly string[]): string {
  const slow = tags.filter((t) => scenario.delays[t] !== undefined);
  return slow.length === 0 ? scenario.label : scenario.label.replace(/\(.*\)$/, `(${slow.map((t) => `\`<${t}>\``).join(', ')})`);
}

/** The slowest delay of a scenario among a page's elements (the floor of its last byte). */
export function slowestDelay(scenario: Scenario, tags: readonly string[]): number {
  return Math.max(0, ...tags.map((t) => scenario.delays[t] ?? 0));
}
