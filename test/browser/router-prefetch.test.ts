/// <reference types="mocha" />
/**
 * The client router's prefetch cache (islands/prefetch.ts): an answer is
 * used at most once, expires after PREFETCH_TTL, a second prefetch of a
 * waiting URL fetches nothing, and clearing aborts what is pending.
 */
import { expect } from '@esm-bundle/chai';
import { PREFETCH_TTL, PrefetchCache } from '../../islands/prefetch.ts';

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
