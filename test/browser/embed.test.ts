/// <reference types="mocha" />
/**
 * `/_atoll/embed.js` on a page that Atoll did not render, across origins:
 * a plain static site (`test/fixtures/embed/host/`, one origin) includes
 * embed.js from an Atoll server (a second origin) and uses its elements; the
 * test page is a third origin. The host pages are cross-origin iframes, so
 * the test drives them through their instrumentation script (`probe.js`,
 * postMessage). Servers: `test/fixtures/embed/servers.ts`.
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

async function open(page: string): Promise<HostPage> {
  for (const old of document.querySelectorAll('iframe')) old.remove();
  // scrollIntoView in a host page scrolls this page too: back to the top, so the new frame is in view.
  scrollTo(0, 0);
  const iframe = document.createElement('iframe');
  iframe.style.cssText = 'border: 0; display: block; width: 800px; height: 600px';
  document.body.append(iframe);
  const loaded = new Promise<void>((resolve) => (iframe.onload = () => resolve()));
  iframe.src = `${servers.host}/${page}`;
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
      iframe.contentWindow!.postMessage({ id, cmd, arg }, servers.host);
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

describe('embed.js on a plain page of another origin', function () {
  this.timeout(60_000);

  before(async () => {
    // The first request starts the servers (and builds the fixture site when needed).
    servers = (await (await fetch('/__embed/servers')).json()) as EmbedServers;
    expect(new URL(servers.host).origin).to.not.equal(location.origin);
    expect(new URL(servers.atoll).origin).to.not.equal(location.origin);
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

  it('renders client-only elements, and elements whose fragment failed, in the browser', async () => {
    const page = await open('client.html');
    const state = await page.until('both elements to render', (s) => hydrated(s, 'client') && hydrated(s, 'fails'));
    expect(state.elements.client).to.include({ shadow: true, shadowText: 'client only' });
    expect(state.elements.client!.slotted).to.deep.equal(['light child']);
    expect(fromAtoll(state, '/_atoll/fragment/e-client'), 'ssr="none": no fragment request').to.deep.equal([]);
    expect(state.elements.fails).to.include({ shadow: true, shadowText: 'rendered in the browser' });
    const failure = state.events.find((e) => e.type === 'atoll:fragment-error');
    expect(failure?.id).to.equal('fails');
    expect(failure?.error).to.contain('500');
    expect(state.errors).to.deep.equal([]);
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
