import { randomToken } from './token';

describe('randomToken', () => {
  it('gives 32 lowercase hex digits, all distinct across several refills of its batch', () => {
    const tokens = Array.from({ length: 2_000 }, () => randomToken());
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('does not repeat a batch after a refill', () => {
    const first = Array.from({ length: 256 }, () => randomToken());
    const second = Array.from({ length: 256 }, () => randomToken());
    expect(second.filter((t) => first.includes(t))).toEqual([]);
  });
});
