/**
 * Hand-rolled Lit SSR, streamed: the page's thunked render result through
 * `RenderResultReadable`, piped to the response as Lit's docs show.
 */
import { RenderResultReadable } from '@lit-labs/ssr/lib/render-result-readable.js';
import { announce, listenLocal, serverContext } from '../lib/child.ts';
import { renderPage } from '../lib/lit.ts';

const { scenario, shape, page } = await serverContext();
const { server, url } = await listenLocal((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  new RenderResultReadable(renderPage(shape.elements, page, scenario.delays)).pipe(res);
});
await announce(url, server);
