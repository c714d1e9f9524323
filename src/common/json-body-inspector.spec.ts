import fc from 'fast-check';
import { FORBIDDEN_JSON_KEYS, inspectJsonBody, jsonBodyVerifier, MAX_JSON_DEPTH, MAX_JSON_KEYS } from './json-body-inspector';

const inspect = (text: string, depth?: number) => inspectJsonBody(Buffer.from(text, 'utf8'), depth);
const wide = (n: number, prefix = 'k') => '{' + Array.from({ length: n }, (_, i) => `"${prefix}${i}":${i}`).join(',') + '}';

/** The reference: what the scanner must decide, computed on the parsed value. */
function reference(v: unknown, depth = 0): { deep: boolean; forbidden: boolean } {
  // (Objects here come from Object.fromEntries: no duplicate keys, at most 3 of them.)
  if (v === null || typeof v !== 'object') return { deep: false, forbidden: false };
  if (depth + 1 > MAX_JSON_DEPTH) return { deep: true, forbidden: false };
  const out = { deep: false, forbidden: false };
  for (const [k, child] of Object.entries(v)) {
    if (!Array.isArray(v) && FORBIDDEN_JSON_KEYS.has(k)) out.forbidden = true;
    const r = reference(child, depth + 1);
    out.deep ||= r.deep;
    out.forbidden ||= r.forbidden;
  }
  return out;
}

describe('inspectJsonBody', () => {
  it.each([
    ['{"__proto__":{}}', 'forbidden key "__proto__" in JSON body'],
    ['{"a":[{"constructor":1}]}', 'forbidden key "constructor" in JSON body'],
    ['{"prototype" \n\t :1}', 'forbidden key "prototype" in JSON body'],
    ['{"\\u005f\\u005fproto\\u005f\\u005f":1}', 'forbidden key "__proto__" in JSON body'],
    ['{"__pro\\u0074o__":1}', 'forbidden key "__proto__" in JSON body'],
    ['[' .repeat(33) + ']'.repeat(33), 'JSON body nested deeper than 32 levels'],
    ['{"a":' .repeat(40) + '1' + '}'.repeat(40), 'JSON body nested deeper than 32 levels'],
    ['{"node_id":"a","control_url":"x","node_id":"b"}', 'duplicate key "node_id" in JSON body'],
    ['{"a":1,"\\u0061":2}', 'duplicate key "a" in JSON body'],
    ['{"x":[{"b":1,"c":{"d":1,"d":2}}]}', 'duplicate key "d" in JSON body'],
    ['{"' + 'k'.repeat(100) + '":1,"' + 'k'.repeat(100) + '":2}', `duplicate key "${'k'.repeat(40)}…" in JSON body`],
    [wide(MAX_JSON_KEYS + 1), `JSON object with more than ${MAX_JSON_KEYS} keys`],
    ['{"a":' + wide(MAX_JSON_KEYS + 1) + '}', `JSON object with more than ${MAX_JSON_KEYS} keys`],
  ])('refuses %s', (text, why) => expect(inspect(text)).toBe(why));

  it.each([
    ['a lone continuation byte', [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]],
    ['\\xff\\xfe in a value', [...Buffer.from('{"call_id":"bad'), 0xff, 0xfe, ...Buffer.from('id"}')]],
    ['an overlong "/"', [...Buffer.from('{"a":"'), 0xc0, 0xaf, ...Buffer.from('"}')]],
    ['an encoded surrogate', [...Buffer.from('{"a":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]],
    ['a truncated sequence', [...Buffer.from('{"a":"'), 0xe2, 0x82]],
    ['invalid bytes in a key', [0x7b, 0x22, 0xfe, 0x22, 0x3a, 0x31, 0x7d]],
  ])('refuses %s as not UTF-8', (_, bytes) => {
    expect(inspectJsonBody(Uint8Array.from(bytes))).toBe('JSON body is not well-formed UTF-8');
  });

  it('accepts 64 keys, the same key in different objects, and multi-byte UTF-8', () => {
    expect(inspect(wide(MAX_JSON_KEYS))).toBeUndefined();
    expect(inspect('[' + wide(MAX_JSON_KEYS) + ',' + wide(MAX_JSON_KEYS) + ']')).toBeUndefined();
    expect(inspect('{"a":{"a":1},"b":{"a":1}}')).toBeUndefined();
    expect(inspect('{"é":"日本語 😀","e":"\\u00e9"}')).toBeUndefined();
  });

  it('refuses 20,000 keys at the 65th, without reading the rest', () => {
    const text = wide(20_000);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) expect(inspect(text)).toBe(`JSON object with more than ${MAX_JSON_KEYS} keys`);
    // 100 scans of a 200 KB body: far below what one JSON.parse of it costs.
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(500);
  });

  it.each([
    '{"call_id":"__proto__","offer_sdp":"constructor"}', // values are fine
    '["__proto__","prototype"]', // array strings are values
    '{"a":"x\\"__proto__\\":1"}', // inside a string
    '{"__proto__x":1,"xconstructor":2}',
    '{"a":"' + '['.repeat(100) + '{'.repeat(100) + '"}', // brackets inside a string are not nesting
    '[' .repeat(32) + ']'.repeat(32),
    '{"a":"\\\\"}', // an escaped backslash before the closing quote
    '{"unterminated', '', '}}}]]]', // syntax errors are the parser's business
  ])('passes %s', (text) => expect(inspect(text)).toBeUndefined());

  it('agrees with a walk over the parsed value, for any JSON (keys biased towards the forbidden ones)', () => {
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'proto'));
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true },
        fc.jsonValue({ maxDepth: 1 }),
        fc.array(tie('tree'), { maxLength: 3 }),
        fc.array(fc.tuple(key, tie('tree')), { maxLength: 3 }).map((entries) => Object.fromEntries(entries.map(([k, v]) => [k, v])))),
    }));
    // JSON.stringify of an object built by fromEntries keeps "__proto__" as a key only via defineProperty; build text directly.
    const text = (v: unknown): string => {
      if (Array.isArray(v)) return '[' + v.map(text).join(',') + ']';
      if (v !== null && typeof v === 'object') return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + text((v as Record<string, unknown>)[k])).join(',') + '}';
      return JSON.stringify(v);
    };
    fc.assert(fc.property(tree, fc.integer({ min: 0, max: 40 }), (v, wrap) => {
      const body = '['.repeat(wrap) + text(v) + ']'.repeat(wrap);
      const parsed: unknown = JSON.parse(body);
      const want = reference(parsed);
      const got = inspect(body);
      expect(got !== undefined).toBe(want.deep || want.forbidden);
    }), { numRuns: 2_000 });
  });
});

describe('jsonBodyVerifier', () => {
  const verify = jsonBodyVerifier();
  const call = (text: string, enc: string | null) => () => verify(undefined, undefined, Buffer.from(text), enc);
  it('refuses another charset than UTF-8 with 415', () => {
    expect(call('{}', 'utf-16le')).toThrow(expect.objectContaining({ status: 415, message: 'JSON body must be UTF-8' }));
  });
  it('refuses bytes that are not UTF-8 with 400', () => {
    expect(() => verify(undefined, undefined, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'utf-8'))
      .toThrow(expect.objectContaining({ status: 400, message: 'JSON body is not well-formed UTF-8' }));
  });
  it('refuses a forbidden key with 400 and a type body-parser keeps', () => {
    expect(call('{"__proto__":1}', 'utf-8')).toThrow(expect.objectContaining({ status: 400, type: 'entity.verify.failed' }));
  });
  it('passes a plain body in utf-8, utf8 or no charset', () => {
    for (const enc of ['utf-8', 'UTF-8', 'utf8', null]) expect(call('{"a":1}', enc)).not.toThrow();
  });
});

describe('inspectJsonBody on duplicate keys', () => {
  it('finds a duplicate exactly when one object repeats a key (decoded), at any depth', () => {
    type Tree = number | Tree[] | { entries: Array<[string, Tree]> };
    const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true },
        fc.integer(),
        fc.array(tie('tree'), { maxLength: 3 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), tie('tree')), { maxLength: 4 }).map((entries) => ({ entries }))),
    }));
    // Keys are written plain or \u-escaped at random: both spell the same key.
    const text = (v: Tree, escape: boolean): string => {
      if (typeof v === 'number') return String(v);
      if (Array.isArray(v)) return '[' + v.map((x) => text(x, escape)).join(',') + ']';
      return '{' + v.entries.map(([k, x], i) => (escape && i % 2 ? `"\\u00${k.charCodeAt(0).toString(16)}"` : JSON.stringify(k)) + ':' + text(x, escape)).join(',') + '}';
    };
    const dup = (v: Tree): boolean => typeof v === 'number' ? false
      : Array.isArray(v) ? v.some(dup)
        : new Set(v.entries.map(([k]) => k)).size < v.entries.length || v.entries.some(([, x]) => dup(x));
    fc.assert(fc.property(tree, fc.boolean(), (v, escape) => {
      expect(inspect(text(v, escape)) !== undefined).toBe(dup(v));
    }), { numRuns: 2_000 });
  });
});
