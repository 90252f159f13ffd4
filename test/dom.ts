/**
 * happy-dom for the Node tests that read a page's DOM structure. Kept out of
 * `helpers.ts` on purpose: importing happy-dom costs about 1.1 s of CPU per
 * test process (every test file runs in its own), and most files that use
 * the helpers never parse a document.
 */
import { Window } from 'happy-dom';

/** Parses a whole HTML document with happy-dom. */
export function parseDocument(html: string): Document {
  const window = new Window({ settings: { disableJavaScriptEvaluation: true, disableCSSFileLoading: true } });
  const doc = new window.DOMParser().parseFromString(html, 'text/html');
  return doc as unknown as Document;
}
