/**
 * `atoll-ssr/testing`: Atoll's testing kit, Node side.
 *
 * - {@link atollTestPlugin}: the web-test-runner plugin behind the browser
 *   helpers of `atoll-ssr/testing/browser` (`ssrFixture`, `hydrated`, …).
 * - {@link renderToDocument}: SSR output as a happy-dom document with every
 *   declarative shadow root attached, for fast Node tests.
 *
 * Guide: `docs/testing.md`.
 */
// The public types name Node's: a consumer's .d.ts check needs them even with `"types": []`.
/// <reference types="node" preserve="true" />
export { atollTestPlugin, type AtollTestPlugin, type AtollTestPluginOptions } from './wtr-plugin.ts';
export {
  attachDeclarativeShadowRoots,
  parseDocument,
  renderToDocument,
  type RenderedDocument,
  type RenderToDocumentInput,
  type SiteInput,
} from './document.ts';
export { createFixtureRenderer, type FixtureRenderer, type FixtureRendererOptions, type RenderedFixture } from './render.ts';
