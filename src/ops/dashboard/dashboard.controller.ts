import { Controller, Get, Header, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeController, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import { bearerOf, RequireToken, safeEqual } from '../../common/bearer';
import { BearerGuard } from '../../common/bearer.guard';
import { ErrorResponseDto } from '../../contract/dto/responses.dto';
import { InjectOpsOptions, type ResolvedOpsOptions } from '../core/ops.module-definition';
import { DASHBOARD_CSS, DASHBOARD_JS } from './dashboard.assets';
import { renderDashboard } from './dashboard.view';
import { OpsSummaryDto, OpsSummaryService } from './ops-summary';

/**
 * The operators' page at `GET /`, public: without RTP_API_TOKEN it renders the nodes at
 * once; with it, it renders only when the request carries the token (e.g. curl), and the
 * browser script asks for the token and sends it with every JSON read and drain.
 */
@ApiExcludeController()
@Controller()
export class DashboardController {
  constructor(
    private readonly summaries: OpsSummaryService,
    @InjectOpsOptions() private readonly options: ResolvedOpsOptions,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async page(@Req() req: Pick<IncomingMessage, 'headers'>): Promise<string> {
    const expected = this.options.apiToken;
    const given = bearerOf(req.headers.authorization);
    const allowed = !expected || (given !== undefined && safeEqual(given, expected));
    return renderDashboard({ tokenRequired: !!expected, summary: allowed ? await this.summaries.summary() : undefined });
  }

  @Get('dashboard.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): string {
    return DASHBOARD_JS;
  }

  @Get('dashboard.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  style(): string {
    return DASHBOARD_CSS;
  }
}

/** The dashboard's JSON: one read with every node and the recent activity. */
@ApiTags('operations')
@ApiBearerAuth('api')
@Controller('v1/ops')
@RequireToken('api')
@UseGuards(BearerGuard)
export class OpsSummaryController {
  constructor(private readonly summaries: OpsSummaryService) {}

  @Get('summary')
  @ApiOkResponse({ type: OpsSummaryDto })
  @ApiUnauthorizedResponse({ type: ErrorResponseDto })
  summary(): Promise<OpsSummaryDto> {
    return this.summaries.summary();
  }
}
