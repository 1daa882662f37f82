// A checker of the OpenMetrics text format for tests: every line is a # TYPE / # UNIT / # HELP
// line or a sample; a family is declared once with a known type before its samples, and its
// samples are contiguous and carry its name (plus the suffixes its type allows); a unit is the
// name's suffix; label names are valid and unique and values quoted with only \\ \" \n escapes;
// values are numbers; no blank line; the text ends with "# EOF" and a newline. Returns the samples.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const TYPES: Record<string, readonly string[]> = {
  gauge: [''],
  counter: ['_total', '_created'],
  summary: ['', '_count', '_sum', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  info: ['_info'],
  stateset: [''],
  unknown: [''],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
};
const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \S+)?$/;
const VALUE = /^(NaN|[+-]Inf|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$/;

function labelsOf(text: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (m === null) throw new Error(`line ${line}: bad label at "${text.slice(i, i + 20)}"`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = text[i + 1];
        if (n === '\\' || n === '"') value += n;
        else if (n === 'n') value += '\n';
        else throw new Error(`line ${line}: bad escape \\${n ?? ''}`);
        i += 2;
        continue;
      }
      if (c === '\n') throw new Error(`line ${line}: raw newline in a label value`);
      value += c;
      i++;
    }
    i++;
    const key = m[1] as string;
    if (key in out) throw new Error(`line ${line}: label ${key} twice`);
    out[key] = value;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`line ${line}: expected "," between labels`);
  }
  return out;
}

export function checkOpenMetrics(text: string): Sample[] {
  if (!text.endsWith('# EOF\n')) throw new Error('the text must end with "# EOF" and a newline');
  const lines = text.slice(0, -1).split('\n');
  const families = new Map<string, { type: string; closed: boolean }>();
  const samples: Sample[] = [];
  let current: string | undefined;
  const seen = new Set<string>();
  lines.forEach((l, k) => {
    const n = k + 1;
    if (k === lines.length - 1) {
      if (l !== '# EOF') throw new Error(`line ${n}: the last line must be # EOF`);
      return;
    }
    if (l === '') throw new Error(`line ${n}: blank lines are not allowed`);
    if (l === '# EOF') throw new Error(`line ${n}: # EOF before the end`);
    const meta = /^# (TYPE|UNIT|HELP) (\S+)(?: (.*))?$/.exec(l);
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta;
      if (!METRIC.test(name)) throw new Error(`line ${n}: bad family name ${name}`);
      if (kind === 'TYPE') {
        if (families.has(name)) throw new Error(`line ${n}: family ${name} declared twice`);
        if (TYPES[rest] === undefined) throw new Error(`line ${n}: unknown type ${rest}`);
        if (current !== undefined) (families.get(current) as { closed: boolean }).closed = true;
        families.set(name, { type: rest, closed: false });
        current = name;
      } else {
        if (name !== current) throw new Error(`line ${n}: # ${kind} for ${name} outside its family`);
        if (kind === 'UNIT' && !name.endsWith(`_${rest}`)) throw new Error(`line ${n}: unit ${rest} must be the suffix of ${name}`);
      }
      return;
    }
    if (l.startsWith('#')) throw new Error(`line ${n}: unknown comment line`);
    const s = SAMPLE.exec(l);
    if (s === null) throw new Error(`line ${n}: not a sample: ${l}`);
    const [, name = '', , labelText = '', value = ''] = s;
    if (current === undefined) throw new Error(`line ${n}: sample before any # TYPE`);
    const fam = families.get(current) as { type: string };
    const suffix = name.startsWith(current) ? name.slice(current.length) : undefined;
    if (suffix === undefined || !(TYPES[fam.type] as readonly string[]).includes(suffix)) throw new Error(`line ${n}: sample ${name} does not belong to family ${current} (${fam.type})`);
    if (!VALUE.test(value)) throw new Error(`line ${n}: bad value ${value}`);
    const labels = labelsOf(labelText, n);
    if (fam.type === 'summary' && suffix === '' && labels['quantile'] === undefined) throw new Error(`line ${n}: a summary's quantile sample needs a quantile label`);
    if (fam.type === 'stateset' && labels[current] === undefined) throw new Error(`line ${n}: a stateset sample needs the label ${current}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`line ${n}: the same series twice: ${key}`);
    seen.add(key);
    const v = value === 'NaN' ? Number.NaN : value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value);
    if (fam.type === 'counter' && suffix === '_total' && !(v >= 0)) throw new Error(`line ${n}: a counter total must be a non-negative number`);
    samples.push({ name, labels, value: v });
  });
  return samples;
}
