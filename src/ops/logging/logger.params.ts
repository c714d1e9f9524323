// The logging parameters live in common/ so the media node can use them without importing
// service code; ops and the public API keep this path.
export * from '../../common/logger.params';
export { accessLogMiddleware } from '../../common/access-log';
