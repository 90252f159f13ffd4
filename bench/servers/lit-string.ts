/**
 * Hand-rolled Lit SSR, collected: the page's thunked render result gathered
 * into one string with `collectResult` (which awaits slow elements), then sent.
 */
import { collectResult } from '@lit-labs/ssr/lib/render-result.js';
import { announce, listenLocal, serverContext } from '../lib/child.ts';
import { renderPage } from '../lib/lit.ts';

const { scenario, shape, page } = await serverContext();
const { server, url } = await listenLocal((_req, res) => {
  collectResult(renderPage(shape.elements, page, scenario.delays)).then(
    (html) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
      res.end(html);
    },
    (err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    },
  );
});
await announce(url, server);
