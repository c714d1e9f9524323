import type { Type } from '@nestjs/common';
import { getMetadataStorage, type ValidationArguments, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/** One field's checks, in class-validator's order: its conditions (`@IsOptional`, `@ValidateIf`), then its validators. */
interface FieldPlan {
  property: string;
  conditions: ReadonlyArray<(object: object, value: unknown) => boolean>;
  checks: readonly ValidationMetadata[];
}

/** Says an instance is valid; false means "ask class-validator" (it is invalid, or the answer was not a plain yes). */
export type ValidDtoCheck = (entity: object) => boolean;

const checks = new WeakMap<Type<unknown>, ValidDtoCheck | null>();

/**
 * A fast "valid" verdict for a DTO class, read once from its class-validator metadata and
 * run without class-validator's per-call work (metadata lookup and grouping, a
 * ValidationError per field, a promise): each field's conditions, then each validator's own
 * `validate(value, args)` with the arguments class-validator passes. It only ever says yes;
 * anything else — a failed check, a promise — goes to class-validator, so every error and
 * its message still come from class-validator and the DTO stays the one source of truth.
 *
 * Null (class-validator every time) for a class with anything it does not model: nested,
 * promise or whitelist metadata, `each`, groups or `always`, an async constraint.
 * Equivalence with class-validator is a property test (valid-dto.spec.ts).
 */
export function validDtoCheck(dto: Type<unknown>): ValidDtoCheck | null {
  let check = checks.get(dto);
  if (check === undefined) {
    check = compile(dto);
    checks.set(dto, check);
  }
  return check;
}

function compile(dto: Type<unknown>): ValidDtoCheck | null {
  const storage = getMetadataStorage();
  // The same lookup class-validator makes with the pipe's options (no groups, always off, strictGroups off).
  const metas = storage.getTargetValidationMetadatas(dto, '', false, false, undefined);
  if (metas.length === 0) return null;
  const fields = new Map<string, { conditions: Array<(o: object, v: unknown) => boolean>; checks: ValidationMetadata[] }>();
  for (const m of metas) {
    if (m.each || m.always || m.groups?.length || m.validateIf) return null;
    const f = fields.get(m.propertyName) ?? { conditions: [], checks: [] };
    fields.set(m.propertyName, f);
    if (m.type === ValidationTypes.CONDITIONAL_VALIDATION) f.conditions.push(m.constraints[0] as (o: object, v: unknown) => boolean);
    else if (m.type === ValidationTypes.CUSTOM_VALIDATION || m.type === ValidationTypes.IS_DEFINED) {
      if (storage.getTargetValidatorConstraints(m.constraintCls).some((c) => c.async)) return null;
      f.checks.push(m);
    } else return null;
  }
  // class-validator runs IS_DEFINED before the other validators of a field; for a yes/no verdict the order does not matter.
  const plan: FieldPlan[] = [...fields].map(([property, f]) => ({ property, conditions: f.conditions, checks: f.checks }));
  const declared = new Set(fields.keys());
  return (entity) => {
    // class-validator's whitelist sees the instance's own keys, a constructor's among them.
    for (const key of Object.keys(entity)) if (!declared.has(key)) return false;
    const values = entity as Record<string, unknown>;
    for (const { property, conditions, checks: fieldChecks } of plan) {
      const value = values[property];
      let validate = true;
      for (const c of conditions) if (!c(entity, value)) validate = false;
      if (!validate) continue;
      for (const m of fieldChecks) {
        const args: ValidationArguments = { targetName: entity.constructor?.name, property, object: entity, value, constraints: m.constraints };
        for (const c of storage.getTargetValidatorConstraints(m.constraintCls)) {
          const ok: unknown = c.instance.validate(value, args);
          if (ok !== true && (typeof ok === 'object' || !ok)) return false;
        }
      }
    }
    return true;
  };
}
