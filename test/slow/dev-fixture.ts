/**
 * A small site for the `atoll dev` suites, written into a fresh temporary
 * folder (each suite edits its own copy), and a client of the dev server's
 * event channel.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { request } from 'node:http';

export const CARD = (word: string): string => `import { LitElement, html } from 'lit';
import { shout } from './_lib/shout.ts';

export class DCard extends LitElement {
  static override properties = { label: {} };
  declare label: string;
  constructor() {
    super();
    this.label = '';
  }
  override render() {
    return html\`<p class="card">card ${word} \${shout(this.label)}</p>\`;
  }
}
customElements.define('d-card', DCard);
`;

export const SHOUT = (suffix: string): string => `export function shout(s: string): string {
  return s.toUpperCase() + '${suffix}';
}
`;

export const HOOKED = `import { LitElement, html } from 'lit';

export class DHooked extends LitElement {
  static override properties = { word: {} };
  declare word: string;
  constructor() {
    super();
    this.word = '';
  }
  override render() {
    return html\`<p class="hooked">hooked \${this.word}</p>\`;
  }
}
customElements.define('d-hooked', DHooked);
`;

export const HOOKS = (word: string): string => `export async function data(ctx: { query: URLSearchParams }) {
  // ?slow=<ms>: a request that stays in flight while the site changes.
  const slow = Number(ctx.query.get('slow') ?? 0);
  if (slow > 0) await new Promise((r) => setTimeout(r, Math.min(slow, 10000)));
  return { word: '${word}' };
}
`;

export const LAYOUT = (title: string): string => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${title}</title>
  <atoll-head></atoll-head>
</head>
<body>
  <h1 class="title">${title}</h1>
  <d-card label="hi"></d-card>
  <d-hooked></d-hooked>
</body>
</html>
`;

export const ALT_LAYOUT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>alt</title><atoll-head></atoll-head></head>
<body><p class="alt">the alt layout</p></body></html>
`;

export const CONFIG = (extra: string): string => `export default {
  layouts: { '/': 'index.html'${extra} },
};
`;

/** Writes the dev fixture site into a new temporary folder; returns its path. */
export function makeDevSite(): { root: string; write: (file: string, text: string) => void; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'atoll-dev-'));
  const write = (file: string, text: string): void => {
    const path = join(root, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  };
  write('layouts/index.html', LAYOUT('first'));
  write('layouts/alt.html', ALT_LAYOUT);
  write('elements/d-card.ts', CARD('one'));
  write('elements/_lib/shout.ts', SHOUT('!'));
  write('elements/d-hooked/index.ts', HOOKED);
  write('elements/d-hooked/server.ts', HOOKS('alpha'));
  write('atoll.config.mjs', CONFIG(''));
  return { root, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** One event of the dev server's event channel. */
export interface DevEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Connects to the event channel; `next(pred)` resolves with the first matching event (or rejects after `ms`). */
export function events(base: string, query = ''): {
  next: (pred: (e: DevEvent) => boolean, ms?: number) => Promise<DevEvent>;
  /** Forgets the events received so far: `next` looks only at later ones. */
  skip: () => void;
  all: DevEvent[];
  close: () => void;
} {
  const all: DevEvent[] = [];
  const waiting: Array<{ pred: (e: DevEvent) => boolean; resolve: (e: DevEvent) => void }> = [];
  let buffer = '';
  let consumed = 0;
  const req = request(`${base}/_atoll/dev/events${query}`, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === undefined || data === undefined) continue;
        const e = { event, data: JSON.parse(data) as Record<string, unknown> };
        all.push(e);
        for (const w of [...waiting]) {
          if (w.pred(e)) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve(e);
          }
        }
      }
    });
  });
  req.on('error', () => {});
  req.end();
  return {
    all,
    // Events already received count, once each, in order.
    next(pred, ms = 15_000) {
      for (let k = consumed; k < all.length; k++) {
        if (pred(all[k]!)) {
          consumed = k + 1;
          return Promise.resolve(all[k]!);
        }
      }
      consumed = all.length;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching dev event within ${ms} ms; got ${JSON.stringify(all.map((e) => e.event))}`)), ms);
        waiting.push({
          pred,
          resolve: (e) => {
            clearTimeout(timer);
            consumed = all.length;
            resolve(e);
          },
        });
      });
    },
    skip: () => {
      consumed = all.length;
    },
    close: () => req.destroy(),
  };
}
