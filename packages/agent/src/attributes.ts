/** The agent's `--attributes` (Mesos syntax): `rack:r1;zone:a;level:3;ids:[1-4];tags:{a,b}`. */
import { ValueType, type Attribute } from '@agora/core';

const NAME = /^[A-Za-z0-9_.\-/]+$/;

/**
 * Parses attributes: numbers become SCALAR, `[a-b,…]` RANGES, `{x,y}` SET, anything else TEXT.
 * Throws an Error with one sentence naming the bad part.
 */
export function parseAttributes(text: string): Attribute[] {
  const out: Attribute[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    const i = part.indexOf(':');
    const name = i < 0 ? part : part.slice(0, i).trim();
    const value = i < 0 ? '' : part.slice(i + 1).trim();
    if (i < 0 || !name || !value) throw new Error(`invalid attributes "${text}": cannot parse '${part}', expected name:value, e.g. rack:r1`);
    if (!NAME.test(name)) throw new Error(`invalid attributes "${text}": name '${name}' may only hold letters, digits, '_', '.', '-', '/'`);
    if (seen.has(name)) throw new Error(`invalid attributes "${text}": '${name}' is given twice`);
    seen.add(name);
    if (value.startsWith('[')) {
      if (!value.endsWith(']')) throw new Error(`invalid attributes "${text}": ranges of '${name}' lack a closing ']'`);
      const range = value.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
        const m = /^(\d+)\s*(?:-\s*(\d+))?$/.exec(s);
        const b = Number(m?.[1]), e = Number(m?.[2] ?? m?.[1]);
        if (!m || e < b) throw new Error(`invalid attributes "${text}": range '${s}' of '${name}' is not BEGIN-END`);
        return { begin: b, end: e };
      });
      out.push({ name, type: ValueType.RANGES, ranges: { range } });
    } else if (value.startsWith('{')) {
      if (!value.endsWith('}')) throw new Error(`invalid attributes "${text}": set of '${name}' lacks a closing '}'`);
      out.push({ name, type: ValueType.SET, set: { item: value.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean) } });
    } else if (/^-?\d+(\.\d+)?$/.test(value)) {
      out.push({ name, type: ValueType.SCALAR, scalar: { value: Number(value) } });
    } else {
      out.push({ name, type: ValueType.TEXT, text: { value } });
    }
  }
  return out;
}
