import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { unknownFieldsProblem } from './json-validation.pipe';

/** A body with no declared fields: every key of one is unknown. */
class NoFields {}

/**
 * For POST routes that take no body (start, undrain): none, or an empty object, passes; a
 * JSON object with any field is refused like an unknown field of a DTO (400), so "unknown
 * fields are refused on every POST body" holds on these routes too. Express and Fastify alike.
 */
export const NoBodyFields = createParamDecorator((_: unknown, ctx: ExecutionContext): undefined => {
  const body = ctx.switchToHttp().getRequest<{ body?: unknown }>().body;
  if (body === undefined || body === null || body === '') return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestException('body must be a JSON object');
  const problem = unknownFieldsProblem(body, NoFields);
  if (problem) throw new BadRequestException(problem);
  return undefined;
});
