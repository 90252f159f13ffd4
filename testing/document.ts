/**
 * `renderToDocument`: server output as a happy-dom document in which every
 * declarative shadow root (`<template shadowrootmode>`) is attached as a
 * real `shadowRoot` — happy-dom's parser leaves them as templates — so fast
 * Node tests can query SSR output like a live DOM.
 */
import { Window, type Document } from 'happy-dom';
import { createFixtureRenderer, type FixtureRenderer, type FixtureRendererOptions } from './render.ts';

/** Anything with DOM query methods: a document, an element, a shadow root, a fragment. */
interface Queryable {
  querySelectorAll(selectors: string): ArrayLike<unknown> & Iterable<unknown>;
}

/**
 * Attaches every declarative shadow root under `root` whose host has none
 * yet, innermost first, moving (not cloning) the template's content; the
 * template is removed. Works with any DOM implementation that has
 * `attachShadow`. Returns the number of shadow roots attached.
 */
export function attachDeclarativeShadowRoots(root: Queryable): number {
  let count = 0;
  for (const node of [...root.querySelectorAll('template[shadowrootmode]')]) {
    const t = node as HTMLTemplateElement;
    const host = t.parentElement;
    if (host === null || host.shadowRoot !== null) continue;
    count += attachDeclarativeShadowRoots(t.content);
    const mode = t.getAttribute('shadowrootmode') === 'closed' ? 'closed' : 'open';
    const shadow = host.attachShadow({ mode, delegatesFocus: t.hasAttribute('shadowrootdelegatesfocus') });
    shadow.append(t.content);
    t.remove();
    count++;
  }
  return count;
}

/** Parses a complete page (or a fragment, into `<body>`) with declarative shadow roots attached. */
export function parseDocument(html: string, url = 'http://localhost/'): Document {
  const window = new Window({ url });
  const doc = new window.DOMParser().parseFromString(html, 'text/html');
  attachDeclarativeShadowRoots(doc as unknown as Queryable);
  return doc;
}

/** What {@link renderToDocument} renders: a site's route, a fragment, or one element with data. */
export type RenderToDocumentInput =
  | string
  | (SiteInput & { route: string; headers?: Record<string, string> })
  | (SiteInput & { html: string; data?: Record<string, Record<string, unknown>>; url?: string })
  | (SiteInput & { tag: string; attributes?: Record<string, string>; data?: Record<string, unknown>; url?: string });

/** Which site renders: a folder (loaded once per folder and cached) or a renderer you made. */
export type SiteInput = { root?: string; renderer?: FixtureRenderer } & Omit<FixtureRendererOptions, 'root' | 'build' | 'base'>;

/** A rendered document, with the status the engine decided. */
export type RenderedDocument = Document & { readonly status: number };

const renderers = new Map<string, Promise<FixtureRenderer>>();

/**
 * Renders through the site's engine (as `atoll serve` does, without the
 * client build) and returns the output as a happy-dom document whose
 * declarative shadow roots are real `shadowRoot`s, recursively:
 *
 * ```ts
 * const doc = await renderToDocument({ root: 'site', tag: 'my-card', attributes: { name: 'Ada' } });
 * doc.querySelector('my-card')!.shadowRoot!.querySelector('h2')!.textContent; // 'Ada'
 * ```
 *
 * A string is parsed as is. A `route` renders a whole page of the site's
 * layouts; `html` a markup fragment as a page body; `tag` one element, with
 * `data` (its properties) instead of its `data()` hook. Rejects when an
 * element of a fragment fails on the server. Scripts never run.
 */
export async function renderToDocument(input: RenderToDocumentInput): Promise<RenderedDocument> {
  if (typeof input === 'string') return Object.assign(parseDocument(input), { status: 200 });
  const { renderer: given, root = '.', ...rest } = input;
  let renderer = given ? Promise.resolve(given) : renderers.get(root);
  if (renderer === undefined) {
    renderer = createFixtureRenderer({ root, build: false, config: rest.config, configPath: rest.configPath, logger: rest.logger });
    renderers.set(root, renderer);
    renderer.catch(() => renderers.delete(root));
  }
  const r = await renderer;
  let page;
  if ('route' in input) {
    page = await r.render({ route: input.route, headers: input.headers }, { loader: 'none' });
  } else {
    let html: string;
    let data: Record<string, Record<string, unknown>> | undefined;
    if ('tag' in input) {
      html = `<${input.tag}`;
      for (const [name, value] of Object.entries(input.attributes ?? {})) html += ` ${name}="${value.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`;
      html += `></${input.tag}>`;
      if (input.data !== undefined) data = { [input.tag]: input.data };
    } else {
      html = input.html;
      data = input.data;
    }
    page = await r.render({ html, data, url: input.url }, { loader: 'none' });
    if (page.errors.length > 0) throw new Error(`renderToDocument: the server could not render the fixture:\n  ${page.errors.join('\n  ')}`);
  }
  return Object.assign(parseDocument(page.html), { status: page.status });
}
