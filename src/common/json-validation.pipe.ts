import { type ArgumentMetadata, BadRequestException, Injectable, ValidationPipe } from '@nestjs/common';

/**
 * The global ValidationPipe (whitelist, forbidNonWhitelisted, transform, no implicit
 * conversion), plus one rule it lacks: a DTO body must be a JSON object — not an array,
 * a string or null. Messages are joined into one `error` string by the filter.
 */
@Injectable()
export class JsonValidationPipe extends ValidationPipe {
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
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new BadRequestException('body must be a JSON object');
      }
    }
    return super.transform(value, metadata);
  }
}
