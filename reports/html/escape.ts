// Escaping for everything report.html embeds. Names, settings and error details come from run
// records, which anyone can write: a variant called `</script><script>alert(1)` must render as
// text, never end the data block or open a tag.

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for an element's body or a quoted attribute value. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/**
 * JSON for a `<script type="application/json">` block. The HTML parser ends a script at the first
 * `</script` whatever the JSON says, and `<!--` changes how it scans, so every `<`, `>` and `&`
 * becomes a \u escape (still the same JSON string). U+2028/U+2029 are escaped too so the text is
 * also safe as a JavaScript literal.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * A library's source inlined in a `<script>` or `<style>` element. Such text has no escape inside
 * those elements: a `</script`, `</style` or `<!--` in it would end or change the element, so a
 * library that contains one is refused rather than altered.
 */
export function inlineSource(source: string, element: 'script' | 'style'): string {
  const closing = new RegExp(`</${element}|<!--`, 'i');
  if (closing.test(source)) throw new Error(`REPORT.INLINE_UNSAFE: the ${element} to inline contains "</${element}" or "<!--"`);
  return source;
}
