import { createParamDecorator, type ExecutionContext, type Type } from '@nestjs/common';
import { JsonValidationPipe } from './json-validation.pipe';

const pipe = new JsonValidationPipe();

/**
 * A JSON body that may be absent: no body (or an empty one) is `{}`; a body that is there
 * goes through the same validation as every `@Body()` DTO (unknown fields refused …).
 * Works on Express and Fastify (both leave `body` undefined without one).
 */
export const OptionalBody = createParamDecorator(async (dto: Type<object>, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<{ body?: unknown }>();
  const value = req.body === undefined || req.body === null || req.body === '' ? {} : req.body;
  return pipe.transform(value, { type: 'body', metatype: dto, data: undefined });
});
