/**
 * Checks a remote element's markup before it goes into a page: it must be
 * exactly one `<tag>` element, properly closed, whose first child is its
 * declarative shadow root. Anything else (garbage, an unclosed element,
 * another tag, extra markup around it) is a failure, so the page gets the
 * element's fallback instead of broken HTML.
 */
import { parseFragment } from 'parse5';
import type { DefaultTreeAdapterMap } from 'parse5';

type Element = DefaultTreeAdapterMap['element'];

/** The checked markup: everything of the element but its end tag. */
export type FragmentCheck = { ok: true; head: string } | { ok: false; reason: string };

/** Checks the fragment markup for `tag`. */
export function checkFragment(tag: string, html: string): FragmentCheck {
  const fragment = parseFragment(html, { sourceCodeLocationInfo: true });
  const nodes = fragment.childNodes.filter((n) => !(n.nodeName === '#text' && /^\s*$/.test((n as DefaultTreeAdapterMap['textNode']).value)));
  if (nodes.length !== 1 || !('tagName' in nodes[0]!)) {
    return { ok: false, reason: `expected one <${tag}> element, got ${nodes.length} nodes` };
  }
  const el = nodes[0] as Element;
  if (el.tagName !== tag) return { ok: false, reason: `expected <${tag}>, got <${el.tagName}>` };
  const loc = el.sourceCodeLocation;
  if (!loc?.endTag) return { ok: false, reason: `<${tag}> is not closed` };
  const first = el.childNodes.find((n) => 'tagName' in n) as Element | undefined;
  const template = first?.tagName === 'template' ? first : undefined;
  if (template === undefined || !template.attrs.some((a) => a.name === 'shadowrootmode')) {
    return { ok: false, reason: `<${tag}> has no declarative shadow root` };
  }
  if (!template.sourceCodeLocation?.endTag) return { ok: false, reason: 'the shadow root template is not closed' };
  return { ok: true, head: html.slice(loc.startOffset, loc.endTag.startOffset) };
}
