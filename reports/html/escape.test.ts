// Proves report.html's escaping: text and attribute values never carry markup, the embedded JSON
// never contains a character that could end its <script> block yet parses back to the same value,
// and a library that cannot be inlined safely is refused rather than altered.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, inlineSource, jsonForScript } from './escape.ts';

describe('escapeHtml', () => {
  it('turns every markup character into an entity', () => {
    expect(escapeHtml(`</script><img src=x onerror="alert('1')">&amp;`)).toBe('&lt;/script&gt;&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;amp;');
  });

  it('leaves no < > " \' and no bare & in any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const out = escapeHtml(s);
        expect(out).not.toMatch(/[<>"']/);
        expect(out).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
      }),
    );
  });
});

describe('jsonForScript', () => {
  it('holds no <, > or & and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom('</script>', '<!--', '<script>', '&', '\u2028\u2029'), (value, hostile) => {
        const wrapped = { value, hostile, name: `a${hostile}b` };
        const text = jsonForScript(wrapped);
        expect(text).not.toMatch(/[<>&\u2028\u2029]/);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(wrapped)));
      }),
    );
  });
});

describe('inlineSource', () => {
  it('passes ordinary code and refuses text that would end or alter its element', () => {
    expect(inlineSource('var a = 1 < 2;', 'script')).toBe('var a = 1 < 2;');
    expect(() => inlineSource('var s = "</script>";', 'script')).toThrow(/REPORT.INLINE_UNSAFE/);
    expect(() => inlineSource('var s = "</SCRIPT";', 'script')).toThrow(/REPORT.INLINE_UNSAFE/);
    expect(() => inlineSource('a { content: "</style>" }', 'style')).toThrow(/REPORT.INLINE_UNSAFE/);
    expect(() => inlineSource('/* <!-- */', 'style')).toThrow(/REPORT.INLINE_UNSAFE/);
  });
});
