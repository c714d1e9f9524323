import { Transform } from 'class-transformer';
import { registerDecorator, type ValidationOptions } from 'class-validator';
import { httpUrlProblem } from '../../common/env';

/** Trims strings (other values pass unchanged, for the type validators to refuse). */
export const Trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

/** Trims and drops trailing `/`. */
export const NormalizeUrl = () =>
  Transform(({ value }) => (typeof value === 'string' ? value.trim().replace(/\/+$/, '') : value));

/** An absolute http(s) URL with no user-info, query or fragment. */
export function IsControlUrl(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isControlUrl', target: object.constructor, propertyName, options,
      validator: {
        validate: (v: unknown) => typeof v === 'string' && httpUrlProblem(v) === undefined,
        defaultMessage: (args) => {
          const v = args?.value;
          if (typeof v !== 'string') return `${args?.property} must be a string`;
          return `${args?.property} ${httpUrlProblem(v) ?? 'is invalid'}`;
        },
      },
    });
}
