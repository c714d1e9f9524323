import fc from 'fast-check';
import { FORBIDDEN_JSON_KEYS, inspectJsonBody, jsonBodyVerifier, MAX_JSON_DEPTH } from './json-body-inspector';

const inspect = (text: string, depth?: number) => inspectJsonBody(Buffer.from(text, 'utf8'), depth);

/** The reference: what the scanner must decide, computed on the parsed value. */
function reference(v: unknown, depth = 0): { deep: boolean; forbidden: boolean } {
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
  ])('refuses %s', (text, why) => expect(inspect(text)).toBe(why));

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
  it('refuses a forbidden key with 400 and a type body-parser keeps', () => {
    expect(call('{"__proto__":1}', 'utf-8')).toThrow(expect.objectContaining({ status: 400, type: 'entity.verify.failed' }));
  });
  it('passes a plain body in utf-8, utf8 or no charset', () => {
    for (const enc of ['utf-8', 'UTF-8', 'utf8', null]) expect(call('{"a":1}', enc)).not.toThrow();
  });
});
