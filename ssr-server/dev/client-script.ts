/**
 * The browser side of `atoll dev`: a small module script added to pages only
 * in dev (through `<atoll-head>`), served at {@link DEV_CLIENT_PATH}. It
 * listens on the event channel ({@link DEV_EVENTS_PATH}, Server-Sent Events)
 * and
 * - reloads the page when a new generation of the site is ready;
 * - shows the overlay (`<atoll-dev-overlay>`, in a shadow root so the page's
 *   styles neither reach it nor suffer from it) for a generation that failed
 *   or a render error of this page, each with `file:line:col` and a code
 *   frame; Escape or the close button hides it.
 * EventSource reconnects by itself when the dev server restarts.
 */

export const DEV_PREFIX = '/_atoll/dev/';
export const DEV_CLIENT_PATH = '/_atoll/dev/client.js';
export const DEV_EVENTS_PATH = '/_atoll/dev/events';

/** The overlay's styles (shared by the browser overlay and the error page). */
export const OVERLAY_CSS = `
.atoll-dev-overlay{position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(20,20,24,.94);color:#eee;
font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;padding:32px;box-sizing:border-box}
.atoll-dev-overlay h1{margin:0 0 16px;font-size:18px;color:#ff6b6b}
.atoll-dev-overlay section{margin:0 0 20px;padding:12px 16px;border-left:3px solid #ff6b6b;background:#1e1e24}
.atoll-dev-overlay .at{margin:0;color:#8ab4f8}.atoll-dev-overlay .msg{margin:4px 0 8px;white-space:pre-wrap}
.atoll-dev-overlay pre{margin:0;padding:8px;background:#111;overflow:auto}
.atoll-dev-overlay .hint{color:#999}.atoll-dev-overlay button{position:absolute;top:12px;right:16px;background:none;color:#eee;border:1px solid #666;cursor:pointer}
`;

/** The script's source. */
export const DEV_CLIENT_SOURCE = `// atoll dev client
const me = document.querySelector('script[data-atoll-dev]');
const generation = me ? me.dataset.generation : '';
const request = me ? me.dataset.request : '';
const css = ${JSON.stringify(OVERLAY_CSS)};
let overlay;
function hide() { if (overlay) { overlay.remove(); overlay = undefined; } }
function show(problems) {
  if (!Array.isArray(problems) || problems.length === 0) return;
  if (!overlay) {
    overlay = document.createElement('atoll-dev-overlay');
    overlay.attachShadow({ mode: 'open' });
    document.documentElement.append(overlay);
  }
  const root = overlay.shadowRoot;
  root.replaceChildren();
  const style = document.createElement('style');
  style.textContent = css;
  const box = document.createElement('div');
  box.className = 'atoll-dev-overlay';
  box.dataset.kind = problems[0].kind || '';
  const close = document.createElement('button');
  close.textContent = 'close (Esc)';
  close.onclick = hide;
  const h = document.createElement('h1');
  h.textContent = problems.length === 1 ? 'An error in the site' : problems.length + ' errors in the site';
  box.append(close, h);
  for (const p of problems) {
    const s = document.createElement('section');
    const at = document.createElement('p'); at.className = 'at'; at.textContent = p.at || '(no location)';
    const msg = document.createElement('p'); msg.className = 'msg'; msg.textContent = p.message;
    s.append(at, msg);
    if (p.frame) { const pre = document.createElement('pre'); pre.textContent = p.frame; s.append(pre); }
    box.append(s);
  }
  const hint = document.createElement('p'); hint.className = 'hint';
  hint.textContent = 'Fix the file and save: the page reloads.';
  box.append(hint);
  root.append(style, box);
}
addEventListener('keydown', (e) => { if (e.key === 'Escape') hide(); });
const source = new EventSource(${JSON.stringify(DEV_EVENTS_PATH)} + '?generation=' + encodeURIComponent(generation) + '&request=' + encodeURIComponent(request));
source.addEventListener('reload', () => { source.close(); location.reload(); });
source.addEventListener('problems', (e) => { try { show(JSON.parse(e.data).problems); } catch {} });
source.addEventListener('clear', hide);
`;
