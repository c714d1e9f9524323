import { NestFactory } from '@nestjs/core';
import { configureApp } from 'rtp-pool';
import { AppModule } from './app.module.js';

async function bootstrap() {
  // configureApp: the service's JSON gate, validation, {"error"} bodies and security headers.
  const app = configureApp(await NestFactory.create(AppModule));
  await app.listen(process.env.PORT ?? 3000);
}
await bootstrap();
