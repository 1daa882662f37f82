// A strict XML 1.0 well-formedness parser for tests (no DTDs, no namespaces beyond names): one
// root element, tags nested and closed in order, attributes quoted and unique, only the five
// predefined entities and character references, no raw "<" or "&" in text. Returns the element
// tree, so a test can also read what the document says.

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function decode(raw: string, where: number): string {
  if (FORBIDDEN.test(raw)) throw new Error(`character not allowed in XML near offset ${where}`);
  return raw.replace(/&([^;]*);?/g, (m, body: string) => {
    if (!m.endsWith(';')) throw new Error(`unterminated entity "${m}" near offset ${where}`);
    if (body.startsWith('#x')) return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(Number(body.slice(1)));
    const e = ENTITIES[body];
    if (e === undefined) throw new Error(`unknown entity &${body}; near offset ${where}`);
    return e;
  });
}

export function parseXml(text: string): XmlElement {
  let i = 0;
  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end === -1) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt === -1 ? text.slice(i) : text.slice(i, lt);
    if (chunk.includes('>') && stack.length === 0 && chunk.trim() !== '') throw new Error(`text outside the root near offset ${i}`);
    const top = stack[stack.length - 1];
    if (top !== undefined) top.text += decode(chunk, i);
    else if (chunk.trim() !== '') throw new Error(`text outside the root near offset ${i}`);
    if (lt === -1) break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i);
      if (end === -1) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    if (text.startsWith('</', i)) {
      const m = NAME.exec(text.slice(i + 2));
      const close = text.indexOf('>', i);
      const open = stack.pop();
      if (m === null || open === undefined || open.name !== m[0] || text.slice(i + 2 + m[0].length, close).trim() !== '') throw new Error(`mismatched closing tag near offset ${i}`);
      i = close + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (m === null) throw new Error(`bad tag name near offset ${i}`);
    if (root !== undefined && stack.length === 0) throw new Error(`a second root element near offset ${i}`);
    i += 1 + m[0].length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))?.[0].length ?? 0;
      i += ws;
      if (text.startsWith('/>', i) || text.startsWith('>', i)) break;
      if (ws === 0) throw new Error(`attributes must be separated by space near offset ${i}`);
      const a = /^([A-Za-z_:][A-Za-z0-9_:.-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(text.slice(i));
      if (a === null) throw new Error(`bad attribute near offset ${i}`);
      const key = a[1] as string;
      if (key in attributes) throw new Error(`attribute ${key} twice near offset ${i}`);
      attributes[key] = decode(a[3] ?? a[4] ?? '', i);
      i += a[0].length;
    }
    const el: XmlElement = { name: m[0], attributes, children: [], text: '' };
    stack[stack.length - 1]?.children.push(el);
    root ??= el;
    if (text.startsWith('/>', i)) i += 2;
    else {
      i += 1;
      stack.push(el);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed element <${stack[stack.length - 1]?.name}>`);
  if (root === undefined) throw new Error('no root element');
  return root;
}
