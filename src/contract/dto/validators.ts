import { Transform } from 'class-transformer';
import { registerDecorator, type ValidationOptions } from 'class-validator';
import { canonicalControlUrl, controlUrlProblem } from '../control-urls';

/** Trims strings (other values pass unchanged, for the type validators to refuse). */
export const Trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

/**
 * Trims, then puts a valid control URL in its canonical form (no trailing `/`); anything
 * else passes trimmed, for {@link IsControlUrl} to refuse with its reason.
 */
export const NormalizeUrl = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const v = value.trim();
    return controlUrlProblem(v) === undefined ? canonicalControlUrl(v) : v;
  });

/**
 * An absolute http(s) URL with no user-info, query or fragment, a port of 1-65535 or none,
 * a host other than 0.0.0.0 or ::, and no control characters or backslashes in the raw
 * string (see {@link controlUrlProblem}).
 */
export function IsControlUrl(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isControlUrl', target: object.constructor, propertyName, options,
      validator: {
        validate: (v: unknown) => typeof v === 'string' && controlUrlProblem(v) === undefined,
        defaultMessage: (args) => {
          const v = args?.value;
          if (typeof v !== 'string') return `${args?.property} must be a string`;
          return `${args?.property} ${controlUrlProblem(v) ?? 'is invalid'}`;
        },
      },
    });
}

/** A string of dots alone. */
export const ONLY_DOTS = /^\.+$/;
/** `.` and `..`: dot segments, which URL clients resolve away instead of sending. */
export const DOT_SEGMENT = /^\.\.?$/;

function refusePattern(name: string, pattern: RegExp, what: string) {
  return (options?: ValidationOptions) => (object: object, propertyName: string) =>
    registerDecorator({
      name, target: object.constructor, propertyName, options,
      validator: {
        validate: (v: unknown) => typeof v !== 'string' || !pattern.test(v),
        defaultMessage: (args) => `${args?.property} must not be ${what}`,
      },
    });
}

/** Refuses ids made only of dots (`.`, `..`, `...`): node ids, which name a URL path segment. */
export const NotOnlyDots = refusePattern('notOnlyDots', ONLY_DOTS, 'only dots');

/**
 * Refuses `.` and `..` (call ids: any printable characters, but a dot segment cannot be
 * put in a URL path, so such a call could never be started or deleted).
 */
export const NotDotSegment = refusePattern('notDotSegment', DOT_SEGMENT, '"." or ".." (a URL dot segment)');
