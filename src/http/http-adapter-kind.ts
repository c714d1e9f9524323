/** The HTTP platforms the service runs on (RTP_HTTP_ADAPTER). */
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;
export type HttpAdapterKind = (typeof HTTP_ADAPTERS)[number];
