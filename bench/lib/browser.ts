/**
 * Page loads in Debian's Chromium (puppeteer-core over CDP) for the islands
 * bench: device profiles (CPU throttling, network shaping, viewport), and one
 * measured load — first view (empty cache) or repeat view (the same page
 * loaded once before in the same browser context, so immutable assets come
 * from the HTTP cache).
 */
import puppeteer, { type Browser, type CDPSession, type Page } from 'puppeteer-core';
import { CHROMIUM_ARGS as ENGINE_CHROMIUM_ARGS } from '../../test/slow/engines.ts';

/** The flags Chromium needs on this machine (test/slow/engines.ts), in new headless mode. */
export const CHROMIUM_ARGS = ['--headless=new', ...ENGINE_CHROMIUM_ARGS];

export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A device and network to emulate. */
export interface DeviceProfile {
  name: string;
  label: string;
  viewport: { width: number; height: number };
  /** CPU slowdown factor (1: none). */
  cpu: number;
  network?: { latency: number; downloadThroughput: number; uploadThroughput: number };
}

export const PROFILES: Readonly<Record<string, DeviceProfile>> = {
  'slow-mobile': {
    name: 'slow-mobile',
    label: 'slow mobile: 412×823, 4× CPU slowdown, 150 ms RTT, 1.6 Mbps down / 750 kbps up',
    viewport: { width: 412, height: 823 },
    cpu: 4,
    network: { latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 },
  },
  desktop: {
    name: 'desktop',
    label: 'desktop: 1280×800, no throttling',
    viewport: { width: 1280, height: 800 },
    cpu: 1,
  },
};

export type View = 'first' | 'repeat';

/** One measured page load; times in ms from navigation start. */
export interface Sample {
  fcp: number;
  lcp: number;
  /** Until every island of `readyTags` fired `atoll:hydrated` (NaN when there are none). */
  ready: number;
  /** HTML bytes over the network (compressed, with headers). */
  htmlBytes: number;
  /** JavaScript bytes over the network (compressed, with headers) until the network is idle, with no interaction. */
  jsBytes: number;
  /** Of those, decoded (what the engine parsed from the network). */
  jsDecoded: number;
  /** Script requests answered by the network (not the cache). */
  jsRequests: number;
  /** `atoll:hydration-error`s and page errors (a correct page has none). */
  errors: string[];
  /** Per island tag: when its strategy fired and how long hydration took (`atoll:hydrated`'s detail), for the JSON output. */
  islands: Record<string, { start: number; duration: number }>;
}

/** Installed before the page's own code: hydration times, LCP, errors. */
const RECORDER = `
window.__bench = { hydrated: {}, islands: {}, lcp: NaN, errors: [] };
addEventListener('atoll:hydrated', (e) => {
  const t = e.target.localName;
  if (t in __bench.hydrated) return;
  __bench.hydrated[t] = performance.now();
  __bench.islands[t] = { start: e.detail && e.detail.start, duration: e.detail && e.detail.duration };
});
addEventListener('atoll:hydration-error', (e) => __bench.errors.push(e.target.localName + ': ' + String(e.detail && e.detail.error)));
addEventListener('error', (e) => __bench.errors.push('error: ' + e.message));
try {
  new PerformanceObserver((list) => { for (const e of list.getEntries()) __bench.lcp = e.startTime; })
    .observe({ type: 'largest-contentful-paint', buffered: true });
} catch {}
`;

interface Recorded {
  hydrated: Record<string, number>;
  islands: Record<string, { start: number; duration: number }>;
  lcp: number;
  errors: string[];
}

/** Network accounting of one navigation, from CDP events. */
class NetworkLog {
  private readonly scripts = new Map<string, { cached: boolean; bytes: number; decoded: number }>();
  private readonly documents = new Map<string, number>();

  constructor(cdp: CDPSession) {
    cdp.on('Network.responseReceived', (e) => {
      const cached = e.response.fromDiskCache === true || e.response.fromPrefetchCache === true || e.response.fromServiceWorker === true;
      if (e.type === 'Script') this.scripts.set(e.requestId, { cached, bytes: 0, decoded: 0 });
      if (e.type === 'Document') this.documents.set(e.requestId, 0);
    });
    cdp.on('Network.requestServedFromCache', (e) => {
      const s = this.scripts.get(e.requestId);
      if (s) s.cached = true;
    });
    cdp.on('Network.dataReceived', (e) => {
      const s = this.scripts.get(e.requestId);
      if (s) s.decoded += e.dataLength;
    });
    cdp.on('Network.loadingFinished', (e) => {
      const s = this.scripts.get(e.requestId);
      if (s) s.bytes = e.encodedDataLength;
      if (this.documents.has(e.requestId)) this.documents.set(e.requestId, e.encodedDataLength);
    });
  }

  reset(): void {
    this.scripts.clear();
    this.documents.clear();
  }

  totals(): Pick<Sample, 'htmlBytes' | 'jsBytes' | 'jsDecoded' | 'jsRequests'> {
    let jsBytes = 0;
    let jsDecoded = 0;
    let jsRequests = 0;
    for (const s of this.scripts.values()) {
      if (s.cached) continue;
      jsBytes += s.bytes;
      jsDecoded += s.decoded;
      jsRequests++;
    }
    let htmlBytes = 0;
    for (const b of this.documents.values()) htmlBytes += b;
    return { htmlBytes, jsBytes, jsDecoded, jsRequests };
  }
}

async function emulate(page: Page, cdp: CDPSession, profile: DeviceProfile, cache: boolean): Promise<void> {
  await page.setViewport(profile.viewport);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: !cache });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
  if (profile.network) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...profile.network });
}

/** Loads `url` and waits until `readyTags` hydrated and the network is idle. */
async function load(page: Page, url: string, readyTags: readonly string[], timeout: number): Promise<void> {
  await page.goto(url, { waitUntil: 'load', timeout });
  if (readyTags.length > 0) {
    await page.waitForFunction(
      (tags: string[]) => {
        const b = (window as unknown as { __bench: Recorded }).__bench;
        return b.errors.length > 0 || tags.every((t) => b.hydrated[t] !== undefined);
      },
      { timeout, polling: 50 },
      [...readyTags],
    );
  }
  // Whatever the page fetches without interaction, let it arrive.
  await page.waitForNetworkIdle({ idleTime: 500, timeout });
}

/**
 * One measured load of `url` in a fresh browser context. `repeat`: the page
 * is loaded once first (not measured) with the cache on, then again.
 */
export async function measureLoad(
  browser: Browser,
  url: string,
  profile: DeviceProfile,
  view: View,
  readyTags: readonly string[],
  timeout = 30_000,
): Promise<Sample> {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    const cdp = await page.createCDPSession();
    await emulate(page, cdp, profile, view === 'repeat');
    const net = new NetworkLog(cdp);
    await page.evaluateOnNewDocument(RECORDER);
    if (view === 'repeat') {
      await load(page, url, readyTags, timeout);
      // A different page in between, so the measured load is a navigation, not a same-URL reload.
      await page.goto('about:blank');
      net.reset();
    }
    await load(page, url, readyTags, timeout);
    const r = await page.evaluate((tags: string[]) => {
      const b = (window as unknown as { __bench: Recorded }).__bench;
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      const ready = tags.length === 0 ? NaN : Math.max(...tags.map((t) => b.hydrated[t] ?? NaN));
      return { fcp: paint?.startTime ?? NaN, lcp: b.lcp, ready, errors: b.errors, islands: b.islands };
    }, [...readyTags]);
    return { ...r, ...net.totals() };
  } finally {
    await context.close();
  }
}

/**
 * The microfrontends among `tags` whose boxes intersect the first viewport of
 * `url` (loaded once, unthrottled, with `profile`'s viewport), excluding
 * `hydrate="none"` ones.
 */
export async function tagsInFirstViewport(browser: Browser, url: string, profile: DeviceProfile, tags: readonly string[]): Promise<string[]> {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    await page.setViewport(profile.viewport);
    await page.goto(url, { waitUntil: 'load' });
    // Once everything the page loads by itself has arrived and hydrated, the layout is final.
    await page.waitForNetworkIdle({ idleTime: 500, timeout: 30_000 });
    return await page.evaluate((all: string[]) => {
      const out: string[] = [];
      for (const tag of all) {
        for (const el of document.querySelectorAll(tag)) {
          const r = el.getBoundingClientRect();
          if (r.bottom > 0 && r.top < innerHeight && r.width > 0 && !el.matches('[hydrate=none]') && !out.includes(tag)) out.push(tag);
        }
      }
      return out;
    }, [...tags]);
  } finally {
    await context.close();
  }
}
