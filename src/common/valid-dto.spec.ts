import 'reflect-metadata';
import fc from 'fast-check';
import { IsBoolean, IsInt, IsString, ValidateIf, ValidateNested, validate, type ValidatorOptions } from 'class-validator';
import { PrepareCallDto } from '../contract/dto/prepare-call.dto';
import { RegisterNodeDto } from '../contract/dto/register-node.dto';
import { flatDtoInstance } from './flat-dto';
import { declaredFields } from './json-validation.pipe';
import { validDtoCheck } from './valid-dto';

/** What JsonValidationPipe passes class-validator. */
const OPTIONS: ValidatorOptions = {
  whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, stopAtFirstError: true,
  validationError: { target: false, value: false },
};

/** The entity the pipe builds (transforms applied), and both verdicts on it. */
async function verdicts(dto: new () => object, body: Record<string, unknown>): Promise<{ fast: boolean; classValidator: boolean }> {
  const entity = flatDtoInstance(dto, body, declaredFields(dto), {}) as object;
  return { fast: validDtoCheck(dto)!(entity), classValidator: (await validate(entity, OPTIONS)).length === 0 };
}

/** 2,000 random bodies: the fast verdict equals class-validator's on each, and both verdicts occur. */
async function expectSameVerdicts(dto: new () => object, bodies: fc.Arbitrary<Record<string, unknown>>): Promise<void> {
  let valid = 0;
  await fc.assert(fc.asyncProperty(bodies, async (b) => {
    const v = await verdicts(dto, b);
    expect(v.fast).toBe(v.classValidator);
    if (v.fast) valid++;
  }), { numRuns: 2_000 });
  expect(valid).toBeGreaterThan(200);
  expect(valid).toBeLessThan(1_800);
}

const junk = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
/** A field's value: mostly a valid one (so whole bodies are often valid), else an edge case or junk. */
const field = <T>(valid: fc.Arbitrary<T>, ...edges: unknown[]) => fc.oneof(
  { weight: 10, arbitrary: valid as fc.Arbitrary<unknown> },
  { weight: 1, arbitrary: edges.length ? fc.constantFrom(...edges) : junk },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 20 }), junk) },
);

describe('validDtoCheck: the same verdict as class-validator', () => {
  it('RegisterNodeDto, random heartbeat bodies (valid and not)', async () => {
    const body = fc.record({
      node_id: field(fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/), '..', '', ' pad ', 'x'.repeat(128), 'x'.repeat(129), 'bad id'),
      control_url: field(fc.constantFrom('http://10.0.0.5:8090', 'https://h.example:1/', 'http://[::1]:80', ' http://h:1 '),
        'http://0.0.0.0:1', 'ftp://h', 'http://u@h', 'http://h:0', 'http://h/a?q', 'x'.repeat(2049)),
      media_ip: field(fc.constantFrom('10.0.0.5', '::1', '[::1]', 'h.example', ''), 'bad ip!', 'x'.repeat(256)),
      active_legs: field(fc.integer({ min: 0, max: 10_000_000 }), -1, 10_000_001, 1.5, NaN, Infinity, '1'),
      capacity: field(fc.integer({ min: 1, max: 10_000_000 }), 0, 10_000_001, 2.5),
      weight: field(fc.double({ min: 0.001, max: 1_000_000, noNaN: true }), 0, -1, 1_000_001, NaN, Infinity, -Infinity),
      region: field(fc.string({ maxLength: 64 }), 'x'.repeat(65), ' eu '),
      draining: field(fc.boolean(), 'true', 1),
    }, { requiredKeys: [] });
    await expectSameVerdicts(RegisterNodeDto, body);
  });

  it('PrepareCallDto, random prepare bodies (valid and not)', async () => {
    const body = fc.record({
      call_id: field(fc.string({ minLength: 1, maxLength: 40 }), '.', '..', '', ' ', 'x\u0000y', 'x\ud800', 'é@ü', 'x'.repeat(256), 'x'.repeat(257)),
      offer_sdp: field(fc.string({ minLength: 1, maxLength: 40 }), ''),
      region: field(fc.string({ maxLength: 64 }), 'x'.repeat(65)),
    }, { requiredKeys: [] });
    await expectSameVerdicts(PrepareCallDto, body);
  });

  it('leaves to class-validator what it does not model: nested, `each`, conditions of its own', async () => {
    class Nested {
      @ValidateNested() child!: object;
    }
    class Each {
      @IsString({ each: true }) tags!: string[];
    }
    class Conditional {
      @IsBoolean() on!: boolean;
      @ValidateIf((o: { on?: boolean }) => o.on === true) @IsInt() n!: number;
    }
    class Initialized {
      @IsInt() n!: number;
      extra = 'set by the constructor, declared nowhere';
    }
    // class-validator's whitelist refuses the undeclared key the constructor added: so does the fast verdict.
    expect((await validate(Object.assign(new Initialized(), { n: 1 }), OPTIONS)).length).toBe(1);
    expect(validDtoCheck(Initialized)!(Object.assign(new Initialized(), { n: 1 }))).toBe(false);
    expect(validDtoCheck(Nested)).toBeNull();
    expect(validDtoCheck(Each)).toBeNull();
    expect(validDtoCheck(Conditional)).not.toBeNull(); // @ValidateIf is a condition it runs
    expect(validDtoCheck(Conditional)!(Object.assign(new Conditional(), { on: false, n: 'x' }))).toBe(true);
    expect(validDtoCheck(Conditional)!(Object.assign(new Conditional(), { on: true, n: 'x' }))).toBe(false);
  });
});
