import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ControlCallError } from './control-call.error';
import type { HealthResponse, PrepareLegRequest, PrepareLegResponse } from '../contract/contract.types';
import { NodePaths } from '../contract/paths';
import { type HttpMethod, type JsonAnswer, JsonHttp, reasonOf } from './json-http';

export const CONTROL_CLIENT_OPTIONS = Symbol('RTP_CONTROL_CLIENT_OPTIONS');

export interface ControlClientOptions {
  /** Milliseconds a control call may take, connect to last byte. @default 2000 */
  timeoutMs: number;
  /** Sent as `Authorization: Bearer …` on every media-node path but `/v1/health`. */
  nodeToken?: string;
}

/**
 * The one HTTP client towards media nodes (CONTRACT §2). Exact statuses as the Go
 * pool: prepare accepts only 201, start only 200, delete 204/200 and 404 ("already gone").
 * Every failure is a {@link ControlCallError} with its kind.
 *
 * Transport: {@link JsonHttp} (an undici `Agent`, a keep-alive connection pool per node origin), owned by
 * this client and closed at application shutdown; cheaper per control call than @nestjs/axios
 * (docs/performance.md, figures behind the code).
 */
@Injectable()
export class NodeControlClient implements OnApplicationShutdown {
  private readonly http: JsonHttp;

  constructor(@Inject(CONTROL_CLIENT_OPTIONS) private readonly options: ControlClientOptions) {
    this.http = new JsonHttp(options.timeoutMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.http.close();
  }

  async prepare(controlUrl: string, req: PrepareLegRequest): Promise<PrepareLegResponse> {
    const res = await this.call('POST', controlUrl, NodePaths.legs, req);
    this.expect(res, [201]);
    return parsePrepareAnswer(res.data, req.call_id);
  }

  async start(controlUrl: string, callId: string): Promise<void> {
    const res = await this.call('POST', controlUrl, NodePaths.start(callId));
    this.expect(res, [200]);
  }

  /** Resolves true when the node deleted the leg, false when it did not know it (404). */
  async delete(controlUrl: string, callId: string): Promise<boolean> {
    const res = await this.call('DELETE', controlUrl, NodePaths.leg(callId));
    if (res.status === 404) return false;
    this.expect(res, [204, 200]);
    return true;
  }

  /**
   * The call ids of the legs a node holds (`GET /v1/legs`, CONTRACT §7), or undefined when
   * the node does not serve it (404: the Go media node).
   */
  async listLegs(controlUrl: string, timeoutMs = this.options.timeoutMs): Promise<string[] | undefined> {
    const res = await this.call('GET', controlUrl, NodePaths.legs, undefined, timeoutMs);
    if (res.status === 404 || res.status === 405) return undefined;
    this.expect(res, [200]);
    const legs = (res.data as { legs?: unknown } | undefined)?.legs;
    if (!Array.isArray(legs)) throw new ControlCallError('protocol', 'legs answer without a legs array', res.status);
    const ids: string[] = [];
    for (const l of legs) {
      const id = (l as { call_id?: unknown } | null)?.call_id;
      if (typeof id !== 'string') throw new ControlCallError('protocol', 'legs answer with a leg without call_id', res.status);
      ids.push(id);
    }
    return ids;
  }

  async health(controlUrl: string, timeoutMs = this.options.timeoutMs): Promise<HealthResponse> {
    const res = await this.call('GET', controlUrl, NodePaths.health, undefined, timeoutMs, false);
    this.expect(res, [200]);
    const d = res.data as Partial<HealthResponse> | undefined;
    if (!d || typeof d !== 'object' || !Number.isInteger(d.active_legs) || (d.active_legs as number) < 0) {
      throw new ControlCallError('protocol', 'health answer without a valid active_legs', res.status);
    }
    return d as HealthResponse;
  }

  private call(
    method: HttpMethod, base: string, path: string, data?: unknown, timeoutMs = this.options.timeoutMs, auth = true,
  ): Promise<JsonAnswer> {
    return this.http.send(method, base, path, { data, timeoutMs, token: auth ? this.options.nodeToken : undefined });
  }

  private expect(res: JsonAnswer, ok: number[]): void {
    if (ok.includes(res.status)) return;
    const reason = reasonOf(res.data) ?? `HTTP ${res.status}`;
    if (res.status >= 500) throw new ControlCallError('server', reason, res.status);
    if (res.status >= 400) throw new ControlCallError('client', reason, res.status);
    throw new ControlCallError('status', `unexpected status ${res.status}`, res.status);
  }
}

function parsePrepareAnswer(data: unknown, callId: string): PrepareLegResponse {
  const d = data as Partial<PrepareLegResponse> | null;
  if (!d || typeof d !== 'object') throw new ControlCallError('protocol', 'prepare answer is not a JSON object', 201);
  const port = d.media_port;
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw new ControlCallError('protocol', 'prepare answer without a valid media_port', 201);
  }
  if (typeof d.codec !== 'string') throw new ControlCallError('protocol', 'prepare answer without a codec', 201);
  return {
    call_id: callId,
    node_id: typeof d.node_id === 'string' ? d.node_id : undefined,
    media_ip: typeof d.media_ip === 'string' ? d.media_ip : '',
    media_port: port as number,
    codec: d.codec,
  };
}
