/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: it
 * throws on anything a Prometheus server would reject (bad names, bad label syntax, values
 * that are not numbers, samples of a family declared elsewhere, a TYPE after samples,
 * duplicate series, histograms without +Inf or with decreasing buckets, counters below 0).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: '${text}' is not a sample value`);
  return Number(text);
}

function parseLabels(text: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without '=' in {${text}}`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name '${name}'`);
    if (name in out) throw new Error(`line ${line}: label '${name}' repeated`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label '${name}' value is not quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      if (j >= text.length) throw new Error(`line ${line}: unterminated value of label '${name}'`);
      const c = text[j]!;
      if (c === '\\') {
        const n = text[j + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`line ${line}: bad escape \\${n ?? ''} in label '${name}'`);
        j += 2;
        continue;
      }
      if (c === '"') break;
      value += c;
      j++;
    }
    out[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`line ${line}: expected ',' after label '${name}'`);
  }
  return out;
}

/** The family a sample belongs to (histogram/summary suffixes folded). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  for (const suffix of ['_bucket', '_sum', '_count', '']) {
    if (suffix && !name.endsWith(suffix)) continue;
    const f = families.get(suffix ? name.slice(0, -suffix.length) : name);
    if (f && (suffix === '' || f.type === 'histogram' || f.type === 'summary')) return f;
  }
  return undefined;
}

/** Parses and validates; throws an Error naming the line on the first problem. */
export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const sawSamples = new Set<string>();
  const series = new Set<string>();
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // other comments are allowed
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new Error(`line ${line}: bad metric name '${name}'`);
      let f = families.get(name!);
      if (!f) families.set(name!, (f = { name: name!, type: 'untyped', help: '', samples: [] }));
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type '${rest}'`);
        if (sawSamples.has(name!)) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
        f.type = rest as Family['type'];
      } else f.help = rest;
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
    const [, name, labelText = '', valueText] = m;
    const labels = parseLabels(labelText, line);
    const value = parseValue(valueText!, line);
    let f = familyOf(name!, families);
    if (!f) families.set(name!, (f = { name: name!, type: 'untyped', help: '', samples: [] }));
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    series.add(key);
    sawSamples.add(f.name);
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`line ${line}: counter ${name} is ${value}`);
    if (f.type === 'histogram' && name!.endsWith('_bucket') && labels.le === undefined) throw new Error(`line ${line}: bucket without le`);
    f.samples.push({ name: name!, labels, value });
  });
  for (const f of families.values()) {
    if (f.type !== 'histogram') continue;
    // Per label set (without le): buckets non-decreasing, +Inf present and equal to _count.
    const groups = new Map<string, Sample[]>();
    for (const s of f.samples) {
      if (!s.name.endsWith('_bucket')) continue;
      const { le: _le, ...rest } = s.labels;
      const k = JSON.stringify(rest);
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const [k, buckets] of groups) {
      const sorted = [...buckets].sort((a, b) => parseValue(a.labels.le!, 0) - parseValue(b.labels.le!, 0));
      for (let i = 1; i < sorted.length; i++) if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`${f.name}${k}: buckets decrease`);
      const inf = sorted[sorted.length - 1]!;
      if (inf.labels.le !== '+Inf') throw new Error(`${f.name}${k}: no +Inf bucket`);
      const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === k);
      if (!count || count.value !== inf.value) throw new Error(`${f.name}${k}: _count does not equal the +Inf bucket`);
    }
  }
  return families;
}

/** The value of one series (labels must match exactly the given subset); 0 when absent. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return 0;
}
