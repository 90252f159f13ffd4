/// <reference types="mocha" />
/**
 * `/_atoll/embed.js` on a page that Atoll did not render, across origins:
 * a plain static site (`test/fixtures/embed/host/`, one origin) includes
 * embed.js from an Atoll server (a second origin) and uses its elements; the
 * test page is a third origin; the same static site on a fourth origin, which
 * the Atoll server's CORS allowlist does not name, has its fragment requests
 * refused. The host pages are cross-origin iframes, so the test drives them
 * through their instrumentation script (`probe.js`, postMessage). Servers:
 * `test/fixtures/embed/servers.ts`.
 */
import { expect } from '@esm-bundle/chai';
import type { EmbedServers } from '../fixtures/embed/servers.ts';

/** What the host page's probe reports about one element. */
interface ElementState {
  tag: string;
  defined: boolean;
  deferHydration: boolean;
  shadow: boolean;
  shadowText: string;
  templatesLeft: number;
  styles: number;
  button: string;
  slotted: string[];
  lightText: string;
  label: unknown;
  items: string[];
  sameNodes: boolean | undefined;
}

interface PageState {
  /** Uncaught errors and console.error calls of the host page. */
  errors: string[];
  events: Array<{ type: string; id: string; strategy?: string; error?: string }>;
  elements: Record<string, ElementState>;
  /** Full URLs of every resource the page fetched. */
  resources: string[];
}

/** A host page in a cross-origin iframe, driven by messages. */
interface HostPage {
  send(cmd: 'state'): Promise<PageState>;
  send(cmd: 'scroll' | 'click' | 'mark', id: string): Promise<unknown>;
  send(cmd: 'fetch', url: string): Promise<string>;
  /** Polls the page's state until `check` holds; fails with `what` after `limitMs` (a bound on a hang). */
  until(what: string, check: (s: PageState) => boolean, limitMs?: number): Promise<PageState>;
}

let servers: EmbedServers;
let serial = 0;

/** Opens `page` of the static host site, from its allowed origin unless `origin` says otherwise. */
async function open(page: string, origin = servers.host): Promise<HostPage> {
  for (const old of document.querySelectorAll('iframe')) old.remove();
  // scrollIntoView in a host page scrolls this page too: back to the top, so the new frame is in view.
  scrollTo(0, 0);
  const iframe = document.createElement('iframe');
  iframe.style.cssText = 'border: 0; display: block; width: 800px; height: 600px';
  document.body.append(iframe);
  const loaded = new Promise<void>((resolve) => (iframe.onload = () => resolve()));
  iframe.src = `${origin}/${page}`;
  await loaded;
  const send = (cmd: string, arg?: string): Promise<unknown> => {
    const id = ++serial;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${cmd} from ${page}`)), 10_000);
      const onMessage = (e: MessageEvent): void => {
        if (e.source !== iframe.contentWindow || (e.data as { id?: number })?.id !== id) return;
        removeEventListener('message', onMessage);
        clearTimeout(timer);
        const result = (e.data as { result: unknown }).result;
        if (result !== null && typeof result === 'object' && 'error' in result) reject(new Error(String(result.error)));
        else resolve(result);
      };
      addEventListener('message', onMessage);
      iframe.contentWindow!.postMessage({ id, cmd, arg }, origin);
    });
  };
  const host = {
    send,
    async until(what: string, check: (s: PageState) => boolean, limitMs = 8000): Promise<PageState> {
      const give = Date.now() + limitMs;
      for (;;) {
        const state = (await send('state')) as PageState;
        if (check(state)) return state;
        if (Date.now() > give) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state)}`);
      }
    },
  };
  return host as HostPage;
}

const fromAtoll = (s: PageState, part: string): string[] =>
  s.resources.filter((u) => u.startsWith(servers.atoll) && new URL(u).pathname.includes(part));
const hydrated = (s: PageState, id: string): boolean => s.events.some((e) => e.id === id && e.type === 'atoll:hydrated');
const eventsOf = (s: PageState, id: string): PageState['events'] => s.events.filter((e) => e.id === id);

describe('embed.js on a plain page of another origin', function () {
  this.timeout(60_000);

  before(async () => {
    // The first request starts the servers (and builds the fixture site when needed).
    servers = (await (await fetch('/__embed/servers')).json()) as EmbedServers;
    expect(new URL(servers.host).origin).to.not.equal(location.origin);
    expect(new URL(servers.atoll).origin).to.not.equal(location.origin);
    expect(new URL(servers.foreign).origin).to.not.equal(new URL(servers.host).origin);
  });

  it('does nothing before the element is visible; then renders its fragment, hydrates it, and it works', async () => {
    const page = await open('visible.html');
    const before = await page.send('state');
    expect(fromAtoll(before, '/_atoll/embed.js'), 'embed.js itself loaded').to.have.length(1);
    expect(fromAtoll(before, '/_atoll/fragment/'), 'no fragment request before scrolling').to.deep.equal([]);
    expect(fromAtoll(before, '/_atoll/assets/'), 'no module request before scrolling').to.deep.equal([]);
    expect(before.elements.counter).to.include({ shadow: false, defined: false, deferHydration: true });

    await page.send('scroll', 'counter');
    const after = await page.until('the element to hydrate', (s) => hydrated(s, 'counter'));
    const el = after.elements.counter!;
    expect(fromAtoll(after, '/_atoll/fragment/e-counter')).to.have.length(1);
    expect(new URL(fromAtoll(after, '/_atoll/fragment/e-counter')[0]!).search, 'its attributes as the query').to.equal('?name=visible&start=5');
    expect(after.events.find((e) => e.id === 'counter')!.strategy).to.equal('visible');
    expect(el).to.include({ defined: true, deferHydration: false, shadow: true, templatesLeft: 0, styles: 1 });
    expect(el.label, 'the server data restored as a property').to.equal('server label for visible');
    expect(el.items, 'the list from the server data').to.deep.equal(['one', 'two']);
    expect(el.button).to.equal('clicked 5');
    expect(el.slotted, "the host page's own children, slotted").to.deep.equal(["the host page's child"]);
    expect(after.events.filter((e) => e.type !== 'atoll:hydrated'), 'no errors').to.deep.equal([]);

    await page.send('click', 'counter');
    const clicked = await page.until('the click to re-render', (s) => s.elements.counter!.button === 'clicked 6');
    expect(clicked.elements.counter!.shadowText.match(/server label/g), 'rendered once, not twice').to.have.length(1);
    expect(clicked.errors).to.deep.equal([]);
  });

  it('renders when visible and hydrates only on interaction, reusing the fragment\'s nodes', async () => {
    const page = await open('interaction.html');
    const rendered = await page.until('the fragment to render', (s) => s.elements.counter!.shadow);
    expect(rendered.elements.counter).to.include({ defined: false, deferHydration: true, button: 'clicked 0' });
    expect(fromAtoll(rendered, '/_atoll/assets/e-counter'), 'no module before the interaction').to.deep.equal([]);

    await page.send('mark', 'counter');
    await page.send('click', 'counter');
    const after = await page.until('the replayed click', (s) => hydrated(s, 'counter') && s.elements.counter!.button === 'clicked 1');
    expect(after.elements.counter).to.include({ defined: true, deferHydration: false, sameNodes: true, label: 'server label for interaction' });
    expect(after.errors).to.deep.equal([]);
  });

  it('renders client-only elements in the browser, and reports them hydrated', async () => {
    const page = await open('client.html');
    const state = await page.until('the client-only element to render', (s) => hydrated(s, 'client'));
    expect(state.elements.client).to.include({ shadow: true, shadowText: 'client only', deferHydration: false });
    expect(state.elements.client!.slotted).to.deep.equal(['light child']);
    expect(fromAtoll(state, '/_atoll/fragment/e-client'), 'ssr="none": no fragment request').to.deep.equal([]);
    expect(eventsOf(state, 'client').map((e) => e.type)).to.deep.equal(['atoll:hydrated']);
    expect(state.errors).to.deep.equal([]);
  });

  it('a fragment answering 500: an error event naming the fragment, then the element\'s own client render, never "hydrated"', async () => {
    const page = await open('client.html');
    // `fails-later` waits for a media query that never matches: with no server markup it must not wait for it.
    const rendered = (s: PageState, id: string): boolean => s.elements[id]!.shadowText === 'rendered in the browser';
    const state = await page.until('both e-fails to render in the browser', (s) => rendered(s, 'fails') && rendered(s, 'fails-later'));
    for (const [id, strategy] of [['fails', 'visible'], ['fails-later', 'media']] as const) {
      expect(state.elements[id], id).to.include({ defined: true, deferHydration: false, shadow: true, lightText: 'fallback while loading' });
      const events = eventsOf(state, id);
      expect(events.map((e) => e.type), `${id}: one error, no atoll:hydrated`).to.deep.equal(['atoll:hydration-error']);
      expect(events[0]!.strategy).to.equal(strategy);
      expect(events[0]!.error).to.contain(`${servers.atoll}/_atoll/fragment/e-fails`).and.contain('500');
    }
    expect(state.errors).to.deep.equal([]);
  });

  it('a failed fragment and a module that fails too: both reported, the page\'s own children stay', async () => {
    const page = await open('client.html');
    const state = await page.until('two errors for e-broken', (s) => eventsOf(s, 'broken').length >= 2);
    const events = eventsOf(state, 'broken');
    expect(events.map((e) => e.type)).to.deep.equal(['atoll:hydration-error', 'atoll:hydration-error']);
    expect(events[0]!.error).to.contain('/_atoll/fragment/e-broken').and.contain('500');
    expect(events[1]!.error, 'the module import failed').to.not.contain('/_atoll/fragment/');
    expect(state.elements.broken).to.include({ defined: false, shadow: false, lightText: "the page's own fallback" });
    expect(state.errors).to.deep.equal([]);
  });

  it('a page whose origin the CORS allowlist does not name: an error event naming the fragment, then the client render, never "hydrated"', async () => {
    const page = await open('refused.html', servers.foreign);
    // `later` hydrates on interaction, but with no server markup nothing may wait for a click on the placeholder.
    const rendered = (s: PageState, id: string): boolean => s.elements[id]!.shadow && !s.elements[id]!.deferHydration;
    const state = await page.until('both elements to render in the browser', (s) => rendered(s, 'counter') && rendered(s, 'later'));
    for (const [id, strategy, count] of [['counter', 'visible', 3], ['later', 'interaction', 0]] as const) {
      const el = state.elements[id]!;
      expect(el, id).to.include({ defined: true, label: 'client default', button: `clicked ${count}` });
      expect(el.shadowText, `${id}: its client render`).to.equal(`client default clicked ${count}`);
      expect(el.slotted, "the page's child, slotted like after a hydration").to.deep.equal(['Loading…']);
      const events = eventsOf(state, id);
      expect(events.map((e) => e.type), `${id}: one error, no atoll:hydrated`).to.deep.equal(['atoll:hydration-error']);
      expect(events[0]!.strategy).to.equal(strategy);
      expect(events[0]!.error).to.contain(`${servers.atoll}/_atoll/fragment/e-counter?name=refused`).and.contain('CORS');
    }
    expect(state.errors).to.deep.equal([]);
    // The client render works.
    await page.send('click', 'later');
    await page.until('the click to re-render', (s) => s.elements.later!.button === 'clicked 1');
  });

  it('CORS: the fragment endpoint answers the allowed origin and refuses any other', async () => {
    const fragment = `${servers.atoll}/_atoll/fragment/e-counter?name=cors`;
    const page = await open('interaction.html');
    expect(await page.send('fetch', fragment), 'from the allowlisted host origin').to.equal('status 200');
    // From this test page's origin, which the allowlist does not name:
    let refused: unknown;
    try {
      await fetch(fragment);
    } catch (e) {
      refused = e;
    }
    expect(refused, 'fetch rejects').to.be.instanceOf(TypeError);
    // …while embed.js, public code, is readable from anywhere.
    const script = await fetch(`${servers.atoll}/_atoll/embed.js`);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.match(/^text\/javascript/);
  });
});
