/**
 * single-spa-layout's server: `constructServerLayout` over a layout whose
 * `<single-spa-router>` holds one `<application>` per element (those in
 * `<main>` — all but the navbar and the footer — inside `<route path="<page>">`), and `sendLayoutHTTPResponse`
 * with a `renderApplication` that returns each element's Lit SSR HTML — a
 * string, or a Promise of one for a slow element.
 */
import { constructServerLayout, sendLayoutHTTPResponse } from 'single-spa-layout/server';
import { announce, listenLocal, serverContext } from '../lib/child.ts';
import { renderElementAfter, renderElementToString } from '../lib/lit.ts';
import type { PageShape, ReferencePage } from '../lib/page.ts';

/** The layout's elements outside the routes. */
const UNROUTED: ReadonlySet<string> = new Set(['shop-navbar', 'shop-footer']);

/** The reference page's layout, with the router (and its applications) in the body. */
function layoutHtml(shape: PageShape, page: ReferencePage): string {
  const tags = shape.elements.map((e) => e.tag);
  const routed = (tag: string | undefined): boolean => tag !== undefined && !UNROUTED.has(tag);
  const [first, ...rest] = page.segments;
  const bodyAt = first!.indexOf('<body>') + '<body>'.length;
  let html = `${first!.slice(0, bodyAt)}<template id="single-spa-layout"><single-spa-router>${first!.slice(bodyAt)}`;
  tags.forEach((tag, i) => {
    if (routed(tag) && !routed(tags[i - 1])) html += `<route path="${shape.path.slice(1)}">`;
    html += `<application name="${tag}"></application>`;
    if (routed(tag) && !routed(tags[i + 1])) html += '</route>';
    html += rest[i]!;
  });
  const bodyEnd = html.lastIndexOf('</body>');
  return `${html.slice(0, bodyEnd)}</single-spa-router></template>${html.slice(bodyEnd)}`;
}

const { scenario, shape, page } = await serverContext();
const serverLayout = constructServerLayout({ html: layoutHtml(shape, page) });
const { server, url } = await listenLocal((req, res) => {
  sendLayoutHTTPResponse({
    res,
    serverLayout,
    urlPath: (req.url ?? '/').split('?')[0]!,
    renderApplication({ appName }) {
      const element = shape.elements.find((e) => e.tag === appName);
      if (element === undefined) throw new Error(`no application ${appName}`);
      const ms = scenario.delays[element.tag];
      return ms === undefined ? renderElementToString(element) : renderElementAfter(element, ms);
    },
    retrieveApplicationHeaders: () => ({}),
    retrieveProp: () => undefined,
    assembleFinalHeaders: () => ({ 'content-type': 'text/html; charset=utf-8' }),
  }).catch((err: unknown) => {
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  });
});
await announce(url, server);
