/**
 * The declarative shadow DOM polyfill path: browsers whose parser does not
 * attach `<template shadowrootmode>` (Firefox before 123, Safari before 16.4)
 * get the same shadow roots attached by script before hydration.
 */

/** True when the HTML parser attaches declarative shadow roots itself. */
export const nativeDSD = 'shadowRootMode' in HTMLTemplateElement.prototype;

/**
 * Attaches every declarative shadow root under `root` whose host has none
 * yet, innermost first, moving (not cloning) the template's content so that
 * hydration finds the server's nodes.
 */
export function attachShadowRoots(root: ParentNode): void {
  for (const t of root.querySelectorAll<HTMLTemplateElement>('template[shadowrootmode]')) {
    const host = t.parentElement;
    if (!host || host.shadowRoot) continue;
    attachShadowRoots(t.content);
    const mode = t.getAttribute('shadowrootmode') as ShadowRootMode;
    host.attachShadow({ mode, delegatesFocus: t.hasAttribute('shadowrootdelegatesfocus') }).append(t.content);
    t.remove();
  }
}
