/// <reference types="mocha" />
/**
 * The client router's prefetch cache (islands/prefetch.ts): an answer is
 * used at most once, expires after PREFETCH_TTL, a second prefetch of a
 * waiting URL fetches nothing, and clearing aborts what is pending; and
 * what starts a prefetch: `intent` (the default: a resting pointer or a
 * press), `hover`, `visible`, `none`, from the link, an ancestor or the
 * page's meta.
 */
import { expect } from '@esm-bundle/chai';
import { INTENT_DELAY, PREFETCH_MAX, PREFETCH_TTL, PrefetchCache, installPrefetch, prefetchWhen } from '../../islands/prefetch.ts';

describe('router prefetch cache', () => {
  const answer = (): Promise<Response> => Promise.resolve(new Response('<p>page</p>', { headers: { 'content-type': 'text/html' } }));

  it('gives a prefetched answer to one navigation only (the hash does not matter), and fetches a URL once while it waits', async () => {
    const cache = new PrefetchCache();
    let fetches = 0;
    const fetchPage = (): Promise<Response> => (fetches++, answer());
    cache.add('http://x.test/a#top', fetchPage);
    cache.add('http://x.test/a', fetchPage);
    expect(fetches).to.equal(1);
    const first = cache.take('http://x.test/a#other');
    expect(first).to.not.equal(undefined);
    expect(await (await first!).text()).to.equal('<p>page</p>');
    expect(cache.take('http://x.test/a'), 'used once').to.equal(undefined);
  });

  it(`expires an answer after ${PREFETCH_TTL / 1000} s`, async () => {
    const cache = new PrefetchCache();
    const now = Date.now;
    try {
      const t0 = now();
      Date.now = () => t0;
      cache.add('http://x.test/b', answer);
      Date.now = () => t0 + PREFETCH_TTL + 1;
      expect(cache.take('http://x.test/b')).to.equal(undefined);
    } finally {
      Date.now = now;
    }
  });

  it('clear() forgets and aborts every waiting answer; a failed prefetch is dropped without an unhandled rejection', async () => {
    const cache = new PrefetchCache();
    let signal: AbortSignal | undefined;
    cache.add('http://x.test/c', (_url, s) => ((signal = s), new Promise<Response>(() => {})));
    cache.add('http://x.test/d', () => Promise.reject(new TypeError('network')));
    await new Promise((r) => setTimeout(r, 10));
    expect(cache.size, 'the failed one is gone').to.equal(1);
    cache.clear();
    expect(signal!.aborted).to.equal(true);
    expect(cache.size).to.equal(0);
  });

  it(`holds at most ${PREFETCH_MAX} answers: the oldest is pushed out and aborted`, () => {
    const cache = new PrefetchCache();
    const signals: AbortSignal[] = [];
    for (let i = 0; i <= PREFETCH_MAX; i++) cache.add(`http://x.test/p${i}`, (_url, s) => (signals.push(s), new Promise<Response>(() => {})));
    expect(cache.size).to.equal(PREFETCH_MAX);
    expect(signals.map((s) => s.aborted)).to.deep.equal([true, ...Array<boolean>(PREFETCH_MAX).fill(false)]);
    expect(cache.take('http://x.test/p0')).to.equal(undefined);
    expect(cache.take(`http://x.test/p${PREFETCH_MAX}`)).to.not.equal(undefined);
    cache.clear();
  });

  it('a navigation drops the waiting answers and refuses prefetches until it settles (their keys would be the old page’s); an older navigation settling changes nothing', () => {
    const cache = new PrefetchCache();
    const asked: string[] = [];
    const fetchPage = (url: string, signal: AbortSignal): Promise<Response> => {
      asked.push(new URL(url).pathname);
      return new Promise<Response>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    };
    cache.add('http://x.test/before', fetchPage);
    const first = cache.begin();
    expect(cache.take('http://x.test/before'), 'asked with the keys of the page being left').to.equal(undefined);
    cache.add('http://x.test/during', fetchPage);
    expect(asked, 'no prefetch while a navigation runs').to.deep.equal(['/before']);
    expect(cache.take('http://x.test/during')).to.equal(undefined);
    // A second navigation starts before the first one settles: the first one's settling does not reopen the cache.
    const second = cache.begin();
    cache.settle(first);
    cache.add('http://x.test/during', fetchPage);
    expect(asked).to.deep.equal(['/before']);
    cache.settle(second);
    cache.add('http://x.test/after', fetchPage);
    expect(asked).to.deep.equal(['/before', '/after']);
    expect(cache.take('http://x.test/after'), 'asked with the new page’s keys: used').to.not.equal(undefined);
    // An answer from before a navigation is never given to a click after it, even if something kept it.
    cache.add('http://x.test/stale', fetchPage);
    cache.settle(cache.begin());
    expect(cache.take('http://x.test/stale')).to.equal(undefined);
  });
});

describe('router prefetch triggers', () => {
  it('visible: a link in view (also inside an open shadow root) is prefetched once it intersects; hover: on pointerover and focus; none: never', async () => {
    const { installPrefetch } = await import('../../islands/prefetch.ts');
    const fetched: string[] = [];
    const cache = new PrefetchCache();
    const box = document.createElement('div');
    document.body.append(box);
    try {
      box.innerHTML =
        '<a id="v" href="/visible-page" data-atoll-prefetch="visible">v</a><a id="n" href="/none-page" data-atoll-prefetch="none">n</a><a id="h" href="/hover-page" data-atoll-prefetch="hover">h</a><x-host></x-host>';
      const root = box.querySelector('x-host')!.attachShadow({ mode: 'open' });
      root.innerHTML = '<a id="sv" href="/shadow-visible" data-atoll-prefetch="visible">sv</a>';
      const scan = installPrefetch(
        {
          cache,
          nonce: '',
          fetchPage: (url) => (fetched.push(new URL(url).pathname), Promise.resolve(new Response('x'))),
        },
        document,
      );
      scan();
      for (let i = 0; i < 50 && fetched.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect([...fetched].sort()).to.deep.equal(['/shadow-visible', '/visible-page']);
      box.querySelector('#n')!.dispatchEvent(new PointerEvent('pointerover', { bubbles: true, composed: true }));
      expect(fetched).to.not.include('/none-page');
      box.querySelector('#h')!.dispatchEvent(new PointerEvent('pointerover', { bubbles: true, composed: true }));
      expect(fetched).to.include('/hover-page');
      expect(cache.take(new URL('/hover-page', location.href).href)).to.not.equal(undefined);
      (box.querySelector('#h') as HTMLElement).focus();
      expect(fetched.filter((p) => p === '/hover-page').length, 'focus prefetches again once the answer was used').to.equal(2);
    } finally {
      box.remove();
      cache.clear();
    }
  });
});

describe('router prefetch: which answers are prepared on arrival', () => {
  it('an answer for a link the pointer or focus reaches is given to prepare; one for a link that only came into view is just read', async () => {
    const fetched: string[] = [];
    const prepared: string[] = [];
    const cache = new PrefetchCache((r) => (prepared.push(new URL(r.url || 'http://x.test/?').searchParams.get('p') ?? ''), r.text()));
    const box = document.createElement('div');
    document.body.append(box);
    try {
      box.innerHTML = '<a id="v" href="/seen?p=seen" data-atoll-prefetch="visible">v</a><a id="h" href="/pointed?p=pointed" data-atoll-prefetch="hover">h</a>';
      const answer = (url: string): Response => {
        const r = new Response('x');
        Object.defineProperty(r, 'url', { value: url });
        return r;
      };
      installPrefetch({ cache, nonce: '', fetchPage: (url) => (fetched.push(new URL(url).pathname), Promise.resolve(answer(url))) }, document)();
      for (let i = 0; i < 50 && !fetched.includes('/seen'); i++) await new Promise((r) => setTimeout(r, 20));
      box.querySelector('#h')!.dispatchEvent(new PointerEvent('pointerover', { bubbles: true, composed: true }));
      await new Promise((r) => setTimeout(r, 50));
      expect([...fetched].sort()).to.deep.equal(['/pointed', '/seen']);
      expect(prepared, 'only the pointed-at link’s answer is prepared').to.deep.equal(['pointed']);
    } finally {
      box.remove();
      cache.clear();
    }
  });
});

describe('router prefetch: links an island renders when it hydrates', () => {
  it('an island that fires atoll:hydrated has the visible links it rendered (shadow root and light DOM) watched; before the event they are not', async () => {
    const fetched: string[] = [];
    const cache = new PrefetchCache();
    const box = document.createElement('div');
    document.body.append(box);
    try {
      box.innerHTML = '<x-late data-atoll-prefetch="visible"></x-late>';
      installPrefetch({ cache, nonce: '', fetchPage: (url) => (fetched.push(new URL(url).pathname), Promise.resolve(new Response('x'))) }, document)();
      const host = box.querySelector('x-late')!;
      // Rendered after the scan, as a client-only island renders when it hydrates.
      host.attachShadow({ mode: 'open' }).innerHTML = '<a href="/late-shadow">late</a><slot></slot>';
      host.insertAdjacentHTML('beforeend', '<a href="/late-light">light</a>');
      await new Promise((r) => setTimeout(r, 150));
      expect(fetched, 'not watched before the island says it rendered').to.deep.equal([]);
      host.dispatchEvent(new CustomEvent('atoll:hydrated', { bubbles: true }));
      for (let i = 0; i < 50 && fetched.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect([...fetched].sort()).to.deep.equal(['/late-light', '/late-shadow']);
    } finally {
      box.remove();
      cache.clear();
    }
  });
});

describe('router prefetch: intent, the default', () => {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const over = (el: Element): boolean => el.dispatchEvent(new PointerEvent('pointerover', { bubbles: true, composed: true }));
  const down = (el: Element, init: PointerEventInit = {}): boolean => el.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true, composed: true, button: 0, ...init }));
  let box: HTMLDivElement;
  let fetched: string[];
  let cache: PrefetchCache;
  beforeEach(() => {
    box = document.createElement('div');
    document.body.append(box);
    // Each test's listeners push to its own list (the listeners of earlier tests stay installed).
    const list: string[] = (fetched = []);
    cache = new PrefetchCache();
    installPrefetch({ cache, nonce: '', fetchPage: (url) => (list.push(new URL(url).pathname), Promise.resolve(new Response('x'))) }, document)();
  });
  afterEach(() => {
    // A pointer leaving the page ends any rest; the listeners stay (one set per test, each with its own cache).
    document.dispatchEvent(new PointerEvent('pointerout', { bubbles: true, relatedTarget: null }));
    box.remove();
    cache.clear();
    document.querySelectorAll('meta[name="atoll-prefetch"]').forEach((m) => m.remove());
  });

  it(`a link with no attribute: fetched once the pointer rested on it ${INTENT_DELAY} ms (also inside an open shadow root), not when it only passed over`, async () => {
    box.innerHTML = '<a id="a" href="/rest-page"><span>rest</span></a><a id="b" href="/passed-page">passed</a><p id="p">text</p><x-host></x-host>';
    const root = box.querySelector('x-host')!.attachShadow({ mode: 'open' });
    root.innerHTML = '<a id="s" href="/shadow-rest">s</a>';
    over(box.querySelector('#b')!);
    await sleep(INTENT_DELAY / 4);
    over(box.querySelector('#p')!);
    over(box.querySelector('#a span')!);
    expect(fetched, 'nothing before the delay').to.deep.equal([]);
    await sleep(INTENT_DELAY / 2);
    over(box.querySelector('#a')!); // moving within the same link does not restart the rest
    await sleep(INTENT_DELAY);
    expect(fetched).to.deep.equal(['/rest-page']);
    over(root.querySelector('#s')!);
    await sleep(INTENT_DELAY * 2);
    expect(fetched).to.deep.equal(['/rest-page', '/shadow-rest']);
    expect(cache.take(new URL('/rest-page', location.href).href), 'the answer waits for the click').to.not.equal(undefined);
  });

  it('a primary press fetches at once (no rest needed); a modified or secondary press does not; leaving the page ends a rest', async () => {
    box.innerHTML = '<a id="a" href="/pressed">a</a><a id="m" href="/ctrl-pressed">m</a><a id="r" href="/right-pressed">r</a><a id="l" href="/left-page">l</a>';
    down(box.querySelector('#a')!, { pointerType: 'touch' });
    expect(fetched).to.deep.equal(['/pressed']);
    down(box.querySelector('#m')!, { ctrlKey: true });
    down(box.querySelector('#r')!, { button: 2 });
    over(box.querySelector('#l')!);
    document.dispatchEvent(new PointerEvent('pointerout', { bubbles: true, relatedTarget: null }));
    await sleep(INTENT_DELAY * 2);
    expect(fetched).to.deep.equal(['/pressed']);
  });

  it('never a document prefetch: a link the router will not follow (another origin, a target, data-atoll-reload) is left alone', async () => {
    box.innerHTML = '<a id="o" href="https://example.com/x">o</a><a id="t" href="/t" target="_blank">t</a><a id="r" href="/r" data-atoll-reload>r</a>';
    const before = document.head.querySelectorAll('script[type=speculationrules], link[rel=prefetch]').length;
    for (const a of box.querySelectorAll('a')) {
      over(a);
      down(a);
    }
    await sleep(INTENT_DELAY * 2);
    expect(fetched).to.deep.equal([]);
    expect(document.head.querySelectorAll('script[type=speculationrules], link[rel=prefetch]').length).to.equal(before);
  });

  it('the strategy comes from the link, else its nearest ancestor (across shadow roots), else <meta name="atoll-prefetch">, else intent; an unknown value is none', async () => {
    box.innerHTML = '<nav data-atoll-prefetch="none"><a id="n" href="/n">n</a><a id="h" href="/h" data-atoll-prefetch="hover">h</a></nav><a id="f" href="/f" data-atoll-prefetch="false">f</a><a id="u" href="/u" data-atoll-prefetch="sometimes">u</a><a id="d" href="/d">d</a><section data-atoll-prefetch="none"><x-host></x-host></section>';
    const root = box.querySelector('x-host')!.attachShadow({ mode: 'open' });
    root.innerHTML = '<a id="s" href="/s">s</a>';
    const when = (sel: string, r: ParentNode = box): string => prefetchWhen(document, r.querySelector(sel)!);
    expect([when('#n'), when('#h'), when('#f'), when('#u'), when('#d'), when('#s', root)]).to.deep.equal(['none', 'hover', 'none', 'none', 'intent', 'none']);
    for (const id of ['#n', '#f', '#u']) down(box.querySelector(id)!);
    down(root.querySelector('#s')!);
    expect(fetched, 'none, false, unknown and an ancestor’s none fetch nothing').to.deep.equal([]);
    const meta = document.createElement('meta');
    meta.name = 'atoll-prefetch';
    meta.content = 'none';
    document.head.append(meta);
    expect(when('#d'), 'the page’s meta').to.equal('none');
    down(box.querySelector('#d')!);
    expect(fetched).to.deep.equal([]);
    meta.content = 'visible';
    expect([when('#d'), when('#h')], 'the link’s own value wins over the meta').to.deep.equal(['visible', 'hover']);
  });

  it('visible from an ancestor (a light-DOM container, a shadow host) or from the page’s meta; an inner none wins', async () => {
    box.innerHTML =
      '<section data-atoll-prefetch="visible"><a href="/vis-ancestor">a</a><a href="/vis-inner-none" data-atoll-prefetch="none">n</a></section><x-host data-atoll-prefetch="visible"></x-host><a href="/vis-meta">m</a>';
    box.querySelector('x-host')!.attachShadow({ mode: 'open' }).innerHTML = '<a href="/vis-shadow">s</a>';
    const scan = installPrefetch({ cache, nonce: '', fetchPage: (url) => (fetched.push(new URL(url).pathname), Promise.resolve(new Response('x'))) }, document);
    scan();
    for (let i = 0; i < 50 && fetched.length < 2; i++) await sleep(20);
    await sleep(60);
    expect([...fetched].sort()).to.deep.equal(['/vis-ancestor', '/vis-shadow']);
    const meta = document.createElement('meta');
    meta.name = 'atoll-prefetch';
    meta.content = 'visible';
    document.head.append(meta);
    scan();
    for (let i = 0; i < 50 && !fetched.includes('/vis-meta'); i++) await sleep(20);
    expect(fetched).to.include('/vis-meta');
    expect(fetched).to.not.include('/vis-inner-none');
  });

  it('under Save-Data a resting pointer or a press fetches nothing by default; a link marked hover still does', async () => {
    box.innerHTML = '<a id="d" href="/d-saved">d</a><a id="h" href="/h-saved" data-atoll-prefetch="hover">h</a>';
    Object.defineProperty(navigator, 'connection', { value: { saveData: true }, configurable: true });
    try {
      over(box.querySelector('#d')!);
      down(box.querySelector('#d')!);
      await sleep(INTENT_DELAY * 2);
      expect(fetched).to.deep.equal([]);
      over(box.querySelector('#h')!);
      expect(fetched).to.deep.equal(['/h-saved']);
    } finally {
      delete (navigator as unknown as Record<string, unknown>).connection;
    }
  });
});
