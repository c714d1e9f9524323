import type { Type } from '@nestjs/common';
import type { ClassTransformOptions } from 'class-transformer';
import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';
import { TransformationType } from 'class-transformer';

// class-transformer's own registry of @Transform/@Type/@Expose/@Exclude (the package exports no public handle to it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage: storage } = require('class-transformer/cjs/storage') as { defaultMetadataStorage: MetadataStorage };

type TransformFn = (params: { value: unknown; key: string; obj: Record<string, unknown>; type: TransformationType; options: ClassTransformOptions }) => unknown;

/** How a DTO class is built from a flat body without class-transformer: its @Transform functions per field. */
interface FlatPlan {
  transforms: ReadonlyMap<string, readonly TransformFn[]>;
}

const plans = new WeakMap<Type<unknown>, FlatPlan | null>();

/**
 * The plan of a DTO class, or null when class-transformer must build it: a class with
 * @Type, @Expose or @Exclude metadata, a transform limited to groups or versions, or an
 * accessor or method under a field's name. Computed once per class.
 */
function planOf(dto: Type<unknown>, fields: ReadonlySet<string>): FlatPlan | null {
  let plan = plans.get(dto);
  if (plan !== undefined) return plan;
  plan = { transforms: new Map() };
  if (storage.getExposedMetadatas(dto).length || storage.getExcludedMetadatas(dto).length || storage.getStrategy(dto) !== 'none') plan = null;
  for (const f of plan ? fields : []) {
    const own = Object.getOwnPropertyDescriptor(dto.prototype, f);
    const ms = storage.findTransformMetadatas(dto, f, TransformationType.PLAIN_TO_CLASS);
    if (own || typeof (dto.prototype as Record<string, unknown>)[f] === 'function' || storage.findTypeMetadata(dto, f) || ms.some((m) => m.options?.groups?.length || m.options?.since !== undefined || m.options?.until !== undefined)) {
      plan = null;
      break;
    }
    if (ms.length) (plan!.transforms as Map<string, TransformFn[]>).set(f, ms.map((m) => m.transformFn as TransformFn));
  }
  plans.set(dto, plan);
  return plan;
}

/**
 * `plainToInstance(dto, body, options)` for the common case, without class-transformer's
 * per-request metadata lookups: a body whose keys are all declared fields (checked by the
 * caller) and whose values are all JSON scalars. Does what class-transformer does then:
 * `new dto()`, each key copied, each field's @Transform functions applied in order with
 * the same arguments. Returns undefined when class-transformer must do it (a nested
 * object or array, or a class {@link planOf} refuses).
 */
export function flatDtoInstance<T>(dto: Type<T>, body: Record<string, unknown>, fields: ReadonlySet<string>, options: ClassTransformOptions): T | undefined {
  const plan = planOf(dto, fields);
  if (!plan) return undefined;
  const keys = Object.keys(body);
  for (const k of keys) {
    const v = body[k];
    if (v !== null && typeof v === 'object') return undefined;
  }
  const out = new dto() as Record<string, unknown>;
  for (const key of keys) {
    let value = body[key];
    const fns = plan.transforms.get(key);
    if (fns) for (const fn of fns) value = fn({ value, key, obj: body, type: TransformationType.PLAIN_TO_CLASS, options });
    out[key] = value;
  }
  return out as T;
}
