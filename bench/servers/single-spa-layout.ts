/**
 * single-spa-layout's server: `constructServerLayout` over a layout whose
 * `<single-spa-router>` holds one `<application>` per element (the hero and
 * the product list inside `<route path="home">`), and `sendLayoutHTTPResponse`
 * with a `renderApplication` that returns each element's Lit SSR HTML — a
 * string, or a Promise of one for a slow element.
 */
import { constructServerLayout, sendLayoutHTTPResponse } from 'single-spa-layout/server';
import { announce, listenLocal, serverContext } from '../lib/child.ts';
import { renderElementAfter, renderElementToString } from '../lib/lit.ts';
import { PAGE_ELEMENTS, type PageTag, type ReferencePage } from '../lib/page.ts';

const ROUTED: ReadonlySet<string> = new Set<PageTag>(['shop-hero', 'shop-product-list']);

/** The reference page's layout, with the router (and its applications) in the body. */
function layoutHtml(page: ReferencePage): string {
  const [first, ...rest] = page.segments;
  const bodyAt = first!.indexOf('<body>') + '<body>'.length;
  let html = `${first!.slice(0, bodyAt)}<template id="single-spa-layout"><single-spa-router>${first!.slice(bodyAt)}`;
  PAGE_ELEMENTS.forEach((tag, i) => {
    const routed = ROUTED.has(tag);
    if (routed && !ROUTED.has(PAGE_ELEMENTS[i - 1] ?? '')) html += '<route path="home">';
    html += `<application name="${tag}"></application>`;
    if (routed && !ROUTED.has(PAGE_ELEMENTS[i + 1] ?? '')) html += '</route>';
    html += rest[i]!;
  });
  const bodyEnd = html.lastIndexOf('</body>');
  return `${html.slice(0, bodyEnd)}</single-spa-router></template>${html.slice(bodyEnd)}`;
}

const { scenario, page } = await serverContext();
const serverLayout = constructServerLayout({ html: layoutHtml(page) });
const { server, url } = await listenLocal((req, res) => {
  sendLayoutHTTPResponse({
    res,
    serverLayout,
    urlPath: (req.url ?? '/').split('?')[0]!,
    renderApplication({ appName }) {
      const tag = appName as PageTag;
      const ms = scenario.delays[tag];
      return ms === undefined ? renderElementToString(tag) : renderElementAfter(tag, ms);
    },
    retrieveApplicationHeaders: () => ({}),
    retrieveProp: () => undefined,
    assembleFinalHeaders: () => ({ 'content-type': 'text/html; charset=utf-8' }),
  }).catch((err: unknown) => {
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  });
});
await announce(url, server);
