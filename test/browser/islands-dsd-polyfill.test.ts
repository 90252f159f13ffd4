/// <reference types="mocha" />
/**
 * The loader's path for browsers without declarative shadow DOM, tested in
 * Chromium on real SSR output inserted with `innerHTML` — which, like an old
 * browser's parser, leaves `<template shadowrootmode>` as a plain template.
 */
import { expect } from '@esm-bundle/chai';
import { attachShadowRoots, nativeDSD } from '../../islands/dsd.ts';
import { sameNodes, shadowNodes } from './islands-helpers.ts';

/** Fetches an Atoll page and returns the markup of its body. */
async function serverBody(path: string): Promise<string> {
  const html = await (await fetch(path)).text();
  return /<body>([\s\S]*)<\/body>/.exec(html)![1]!;
}

describe('declarative shadow DOM polyfill path', function () {
  this.timeout(20_000);

  it('this browser attaches declarative shadow roots natively (the loader skips the polyfill)', () => {
    expect(nativeDSD).to.equal(true);
  });

  it('attaches nested declarative shadow roots, and the result hydrates with the server’s nodes', async () => {
    const container = document.createElement('div');
    container.innerHTML = await serverBody('/atoll/islands/nested');
    document.body.append(container);
    const outer = container.querySelector('i-outer')!;
    expect(outer.shadowRoot, 'innerHTML attached nothing').to.equal(null);
    expect(outer.querySelector(':scope > template[shadowrootmode]')).to.not.equal(null);

    attachShadowRoots(container);

    expect(container.querySelector('template'), 'every template was consumed').to.equal(null);
    const inner = outer.shadowRoot!.querySelector('i-inner')!;
    expect(inner.shadowRoot!.querySelector('p.probe')!.textContent).to.equal('i-inner: inside');
    const before = shadowNodes(outer);
    const innerBefore = shadowNodes(inner);

    // Hydrate as the loader does: hydrate support before Lit, then the module.
    await import('@lit-labs/ssr-client/lit-element-hydrate-support.js');
    await import('../fixtures/islands/elements/i-outer.ts');
    outer.removeAttribute('defer-hydration');
    await (outer as Element & { updateComplete: Promise<boolean> }).updateComplete;
    await (inner as Element & { updateComplete: Promise<boolean> }).updateComplete;
    expect(inner.hasAttribute('defer-hydration')).to.equal(false);
    expect(sameNodes(before, shadowNodes(outer))).to.equal(true);
    expect(sameNodes(innerBefore, shadowNodes(inner))).to.equal(true);
    expect(outer.shadowRoot!.querySelectorAll('p.probe').length).to.equal(1);
    container.remove();
  });
});
