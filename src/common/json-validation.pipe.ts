import { type ArgumentMetadata, BadRequestException, Injectable, type Type, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage, validate, type ValidatorOptions } from 'class-validator';
import { showKey } from './json-body-inspector';
import { flatDtoInstance } from './flat-dto';
import { validDtoCheck } from './valid-dto';

/** Unknown fields named in one error message; the rest are counted. */
export const SHOWN_UNKNOWN_FIELDS = 3;

/** Types ValidationPipe does not validate either: only DTO classes have declared fields. */
const BUILT_IN_TYPES: ReadonlySet<unknown> = new Set([String, Boolean, Number, Array, Object, Buffer, Date]);

const declared = new WeakMap<Type<unknown>, ReadonlySet<string>>();

/**
 * The fields a DTO class declares: every property with class-validator metadata (its own
 * and its parents'). Looked up once per class.
 */
export function declaredFields(dto: Type<unknown>): ReadonlySet<string> {
  let fields = declared.get(dto);
  if (!fields) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
    fields = new Set(metadata.map((m) => m.propertyName));
    declared.set(dto, fields);
  }
  return fields;
}

/**
 * What is wrong with a body's keys, judged against the DTO's declared fields, or undefined.
 * class-validator's whitelist looks a key up in a plain object, so every
 * `Object.prototype` name (`toString`, `valueOf`, `__defineGetter__`, …) counted as
 * declared and was dropped silently; a Set of the declared names has no such members.
 */
export function unknownFieldsProblem(body: object, dto: Type<unknown>): string | undefined {
  const fields = declaredFields(dto);
  const unknown: string[] = [];
  let more = 0;
  for (const key of Object.keys(body)) {
    if (fields.has(key)) continue;
    if (unknown.length < SHOWN_UNKNOWN_FIELDS) unknown.push(key);
    else more++;
  }
  if (unknown.length === 0) return undefined;
  const listed = unknown.map((k) => `property ${k.length > 40 ? showKey(k) : k} should not exist`).join('; ');
  return more ? `${listed} (and ${more} more unknown field${more === 1 ? '' : 's'})` : listed;
}

/**
 * The global ValidationPipe (whitelist, forbidNonWhitelisted, transform, no implicit
 * conversion), plus two rules it lacks: a DTO body must be a JSON object — not an array,
 * a string or null — and its keys must be fields the DTO declares, judged before any
 * other validation (see {@link unknownFieldsProblem}). Messages are joined into one
 * `error` string by the filter.
 */
@Injectable()
export class JsonValidationPipe extends ValidationPipe {
  /** What ValidationPipe passes class-validator on every call, built once. */
  private readonly flatValidatorOptions: ValidatorOptions;

  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      stopAtFirstError: true,
    });
    this.flatValidatorOptions = { ...this.validatorOptions, validationError: { target: false, ...this.validatorOptions.validationError } };
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      // Already validated: the app's global pipe ran before the controller's own (a parsed
      // JSON body is a plain object, never an instance of a DTO class).
      if (!BUILT_IN_TYPES.has(metadata.metatype) && value instanceof metadata.metatype) return value;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new BadRequestException('body must be a JSON object');
      }
      if (!BUILT_IN_TYPES.has(metadata.metatype)) {
        const problem = unknownFieldsProblem(value, metadata.metatype);
        if (problem) throw new BadRequestException(problem);
        // The usual body (declared fields, scalar values): ValidationPipe's steps without
        // class-transformer's per-request metadata walk and without the copies of its
        // options; the same instance, the same validation, the same errors.
        const entity = flatDtoInstance(metadata.metatype, value as Record<string, unknown>, declaredFields(metadata.metatype), this.transformOptions ?? {});
        if (entity !== undefined) {
          // A valid body (nearly every one) is said so without class-validator's per-call work;
          // anything else goes to class-validator, which words the errors.
          if (validDtoCheck(metadata.metatype)?.(entity as object)) return entity;
          const errors = await validate(entity as object, this.flatValidatorOptions);
          if (errors.length > 0) throw await this.exceptionFactory(errors);
          return entity;
        }
      }
    }
    return super.transform(value, metadata);
  }
}
