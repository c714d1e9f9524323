import { Module } from '@nestjs/common';

/** Which calls are VIP calls, and which media nodes are kept for them. */
export interface VipRouting {
  /** A Call-ID ending in one of these is a VIP call. */
  callIdSuffixes: string[];
  /** Media nodes kept for VIP calls; other calls get them only when nothing else is left. */
  nodeIds: string[];
}

export const VIP_ROUTING = Symbol('VIP_ROUTING');

/** Provides {@link VIP_ROUTING}; a test replaces it with `overrideProvider(VIP_ROUTING)`. */
@Module({
  providers: [{ provide: VIP_ROUTING, useValue: { callIdSuffixes: ['@vip.example.com'], nodeIds: ['media-vip'] } satisfies VipRouting }],
  exports: [VIP_ROUTING],
})
export class VipRoutingModule {}
