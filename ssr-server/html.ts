/**
 * Escaping for the contexts Atoll writes into. The branded {@link Html} type
 * marks strings that are already safe to write into a document, so that the
 * types show where escaping happened.
 */

declare const htmlBrand: unique symbol;
/** A string that is already HTML (escaped or authored), safe to emit as is. */
export type Html = string & { readonly [htmlBrand]: true };

/** Marks trusted markup (from the layout or a renderer) as {@link Html}. */
export const trusted = (s: string): Html => s as Html;

const textRe = /[&<>]/g;
const textTest = /[&<>]/;
const attrRe = /[&<>"']/g;
const attrTest = /[&<>"']/;
const replacements: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const replace = (c: string): string => replacements[c]!;

/** Escapes text content (between tags). */
export function escapeText(s: string): Html {
  return (textTest.test(s) ? s.replace(textRe, replace) : s) as Html;
}

/** Escapes an attribute value for a double-quoted attribute. */
export function escapeAttr(s: string): Html {
  return (attrTest.test(s) ? s.replace(attrRe, replace) : s) as Html;
}

/**
 * Serializes a value as JSON that is inert inside a `<script>` element:
 * `<`, `>`, `&`, U+2028 and U+2029 become `\uXXXX` escapes, so neither
 * `</script>` nor `<!--` can appear in the output.
 */
export function jsonForScript(value: unknown): Html {
  return JSON.stringify(value ?? null).replace(/[<>&\u2028\u2029]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  ) as Html;
}
