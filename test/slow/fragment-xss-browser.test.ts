/**
 * The fragment endpoint in a real browser (issue 9): `GET /_atoll/fragment/<tag>`
 * with event-handler, `style` and `srcdoc` query parameters, loaded as a
 * top-level document in headless Chromium (puppeteer-core) from a real Atoll
 * server on 127.0.0.1. No dialog may open and no payload may run: each
 * payload sets a global, which must stay unset.
 *
 * A control page serves, from a plain server, the same markup the endpoint
 * would produce if it copied those attributes onto the host, and the payload
 * must run there: so the harness is proven to see an attack that works.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser } from 'puppeteer-core';
import { sleep, startHostile, type HostileServer } from '../node/hostile-helpers.ts';
import { CHROMIUM_ARGS } from './engines.ts';


let server: HostileServer;
let control: Server;
let controlUrl: string;
let browser: Browser;

before(async () => {
  server = await startHostile();
  // The markup an attribute-copying fragment endpoint produces (what the endpoint answered before issue 9).
  control = createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const attrs = [...q].map(([k, v]) => ` ${k}="${v.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`).join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<h-ok${attrs}><template shadowrootmode="open"><p>ok</p></template></h-ok>`);
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}/`;
  browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await new Promise((resolve) => control?.close(resolve));
});

interface Outcome {
  status: number | undefined;
  dialogs: string[];
  xss: unknown;
  /** The text of `<h-ok>`'s shadow root, when the browser attached one from the declarative template. */
  shadowText: string | null;
}

/** Loads `url`, gives autofocus and a mouse sweep the chance to fire, and reports what ran. */
async function visit(url: string): Promise<Outcome> {
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    // Dismissing gives focus back, which fires onfocus again: keep the first few.
    if (dialogs.length < 5) dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => {});
  });
  try {
    const response = await page.goto(url, { waitUntil: 'load', timeout: 5000 });
    await page.bringToFront();
    await sleep(200);
    // Sweep the viewport: a host styled to cover the page gets mouseover/pointerover.
    for (const [x, y] of [[10, 10], [200, 150], [400, 300], [600, 450]] as const) await page.mouse.move(x, y);
    await page.keyboard.press('Tab');
    await sleep(200);
    const xss = await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
    const shadowText = await page.evaluate(() => document.querySelector('h-ok')?.shadowRoot?.textContent ?? null);
    return { status: response?.status(), dialogs, xss, shadowText };
  } finally {
    await page.close();
  }
}

const fragment = (query: string): string => `${server.running.url}/_atoll/fragment/h-ok?${query}`;

const attacks: Array<[string, string]> = [
  ['autofocus + onfocus=alert(document.domain)', 'tabindex=0&autofocus=&onfocus=alert(document.domain)'],
  ['autofocus + onfocus sets a global', 'tabindex=0&autofocus=&onfocus=window.__xss%3D%22onfocus%22'],
  ['autofocus + onfocusin', 'tabindex=0&autofocus=&onfocusin=window.__xss%3D%22onfocusin%22'],
  ['contenteditable + autofocus + onfocus', 'contenteditable=&autofocus=&onfocus=window.__xss%3D%22contenteditable%22'],
  ['style covering the page + onmouseover', 'style=display:block;position:fixed;inset:0;z-index:2147483647&onmouseover=window.__xss%3D%22mouseover%22'],
  ['style covering the page + onpointerover', 'style=display:block;position:fixed;inset:0&onpointerover=window.__xss%3D%22pointerover%22'],
  ['srcdoc with a script', 'srcdoc=%3Cscript%3Ewindow.top.__xss%3D%22srcdoc%22%3C/script%3E&style=display:block'],
  ['a value that breaks out of its attribute', 'label=%22%3E%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D%22label%22%3E'],
  ['an attribute name that breaks out of the tag', '%22%3E%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D%22name%22%3E=1'],
];

describe('fragment endpoint in Chromium', () => {
  test('control: the same attributes served as markup do run (the harness sees a working attack)', { timeout: 20_000 }, async () => {
    const alerted = await visit(`${controlUrl}?tabindex=0&autofocus=&onfocus=alert(document.domain)`);
    assert.ok(alerted.dialogs.length >= 1 && alerted.dialogs[0] === 'alert: 127.0.0.1', `the alert ran: ${JSON.stringify(alerted.dialogs.slice(0, 3))}`);
    const global = await visit(`${controlUrl}?style=display:block;position:fixed;inset:0&onmouseover=window.__xss%3D1`);
    assert.equal(global.xss, 1, 'the mouseover payload ran on the control page');
  });

  test('control: the endpoint renders the element with its declared attributes', { timeout: 20_000 }, async () => {
    const o = await visit(fragment('sid=visible&label=hello'));
    assert.equal(o.status, 200);
    assert.match(o.shadowText ?? '', /ok visible: hello/, 'the declarative shadow root was attached with the rendered content');
  });

  for (const [name, query] of attacks) {
    test(`${name}: nothing runs`, { timeout: 20_000 }, async () => {
      const o = await visit(fragment(query));
      assert.ok(o.status !== undefined && o.status < 500, `status ${o.status}`);
      if (o.status === 200) assert.ok(o.shadowText !== null, 'a 200 fragment renders the element (minus what was refused)');
      assert.deepEqual({ dialogs: o.dialogs, xss: o.xss ?? null }, { dialogs: [], xss: null }, `GET /_atoll/fragment/h-ok?${query}`);
    });
  }

  test('the 404 text that names the requested tag runs nothing', { timeout: 20_000 }, async () => {
    const o = await visit(`${server.running.url}/_atoll/fragment/${encodeURIComponent('<img src=x onerror=window.__xss="404">')}`);
    assert.deepEqual({ dialogs: o.dialogs, xss: o.xss ?? null }, { dialogs: [], xss: null });
  });
});
