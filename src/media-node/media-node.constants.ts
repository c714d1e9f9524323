import { Inject } from '@nestjs/common';

/** The loaded {@link MediaNodeConfig}. */
export const MEDIA_NODE_CONFIG = Symbol('RTP_MEDIA_NODE_CONFIG');
export const InjectMediaNodeConfig = () => Inject(MEDIA_NODE_CONFIG);
