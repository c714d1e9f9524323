import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { ErrorResponseDto } from '../../contract/dto/responses.dto';
import { InjectOpsOptions, type ResolvedOpsOptions } from '../core/ops.module-definition';
import { ShutdownState } from '../shutdown/shutdown-state';
import { PoolHealthIndicator } from './pool.health';

/**
 * Liveness and readiness (no token: probes run on the operators' network). Failures are
 * 503 `{"error": …}` like every other error of the service.
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pool: PoolHealthIndicator,
    private readonly shutdown: ShutdownState,
    @InjectOpsOptions() private readonly options: ResolvedOpsOptions,
  ) {}

  /** Liveness: the process serves HTTP. Never looks at the store or the nodes. */
  @Get()
  @ApiOkResponse({ description: 'The process is alive: `{"status":"ok", …}` (terminus format).' })
  live() {
    return this.health.check([]);
  }

  /** Readiness: the store answers (and, with RTP_READY_REQUIRES_NODE, a node can take calls); 503 while shutting down. */
  @Get('ready')
  @ApiOkResponse({ description: 'Ready: `{"status":"ok","info":{"store":{"status":"up"}, …}}`.' })
  @ApiServiceUnavailableResponse({ type: ErrorResponseDto, description: 'Not ready: the reason in `error`.' })
  async ready() {
    if (this.shutdown.shuttingDown) throw new ServiceUnavailableException('not ready: shutting down');
    const checks: HealthIndicatorFunction[] = [() => this.pool.storeCheck()];
    if (this.options.readyRequiresNode) checks.push(() => this.pool.nodesCheck());
    try {
      return await this.health.check(checks);
    } catch (e) {
      if (!(e instanceof ServiceUnavailableException)) throw e;
      throw new ServiceUnavailableException(`not ready: ${describeFailure(e.getResponse())}`);
    }
  }
}

/** "store down (timeout); nodes down (no healthy undrained node)" from a terminus result. */
function describeFailure(body: unknown): string {
  const error = (body as { error?: Record<string, Record<string, unknown>> })?.error ?? {};
  const parts = Object.entries(error).map(([key, v]) => {
    const why = typeof v?.message === 'string' ? ` (${v.message})` : '';
    return `${key} down${why}`;
  });
  return parts.join('; ') || 'health check failed';
}
