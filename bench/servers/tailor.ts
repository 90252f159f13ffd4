/**
 * node-tailor: a template with one `<fragment src>` per element, and a
 * fragment server (a second `node:http` server on 127.0.0.1, in this same
 * process, so its CPU and memory count) that answers each element's Lit SSR
 * HTML — after the element's delay when it is slow.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Tailor from 'node-tailor';
import { announce, listenLocal, serverContext } from '../lib/child.ts';
import { renderElementAfter, renderElementToString } from '../lib/lit.ts';

const { scenario, shape, page } = await serverContext();

const fragments = await listenLocal((req, res) => {
  const tag = (req.url ?? '').slice(1);
  const element = shape.elements.find((e) => e.tag === tag);
  if (element === undefined) {
    res.writeHead(404).end();
    return;
  }
  const send = (html: string): void => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
    res.end(html);
  };
  const ms = scenario.delays[tag];
  if (ms === undefined) send(renderElementToString(element));
  else void renderElementAfter(element, ms).then(send);
});

let template = page.segments[0]!;
shape.elements.forEach(({ tag }, i) => {
  template += `<fragment src="${fragments.url}/${tag}"></fragment>${page.segments[i + 1]!}`;
});

// Tailor parses its template per request unless fetchTemplate caches it (its README suggests so).
type ParseTemplate = (base: string) => Promise<unknown>;
let parsed: Promise<unknown> | undefined;
const options = {
  fetchTemplate: (_req: IncomingMessage, parseTemplate: ParseTemplate) => (parsed ??= parseTemplate(template)),
};
const tailor = new Tailor(options as unknown as ConstructorParameters<typeof Tailor>[0]);
const { server, url } = await listenLocal((req: IncomingMessage, res: ServerResponse) => tailor.requestHandler(req, res));
await announce(url, server, fragments.server);
