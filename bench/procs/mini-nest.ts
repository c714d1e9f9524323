/**
 * The framework floor: a minimal Nest 12 app — one controller, the service's own
 * class-validator DTO (`RegisterNodeDto`) under a stock `ValidationPipe` (whitelist,
 * forbidNonWhitelisted, transform) — that upserts a Map. No guards, filters, logger,
 * helmet or metrics. BENCH_ADAPTER=express|fastify picks the platform.
 */
import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { RegisterNodeDto } from '../../src/contract/dto/register-node.dto';
import { failStartup, serveCommands } from '../lib/proc';

const registry = new Map<string, { url: string; legs: number; lastSeen: number }>();

@Controller('v1/nodes')
class NodesController {
  @Post('register')
  @HttpCode(200)
  register(@Body() dto: RegisterNodeDto): { node_id: string; ttl_sec: number; heartbeat_sec: number } {
    registry.set(dto.node_id, { url: dto.control_url, legs: dto.active_legs ?? 0, lastSeen: Date.now() });
    return { node_id: dto.node_id, ttl_sec: 45, heartbeat_sec: 10 };
  }
}

@Module({ controllers: [NodesController] })
class MiniModule {}

async function main(): Promise<void> {
  const fastify = process.env.BENCH_ADAPTER === 'fastify';
  const app = await NestFactory.create(MiniModule, fastify ? new FastifyAdapter({ bodyLimit: 256 * 1024 }) : new ExpressAdapter(), { logger: ['error', 'warn'] });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  serveCommands({}, { url });
}

main().catch(failStartup);
