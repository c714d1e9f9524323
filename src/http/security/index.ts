export { CidrAllowList, parseCidr, parseCidrList, type Cidr } from './cidr';
export { FORBIDDEN_JSON_KEYS, MAX_JSON_DEPTH, inspectJsonBody, jsonBodyVerifier } from '../../common/json-body-inspector';
export { NodeUrlPolicy, ControlUrlRefusedException } from './node-url-policy';
export { RateLimitGuard, RATE_LIMITED_PREFIXES, RATE_LIMIT_MESSAGE } from './rate-limit.guard';
export { SecurityModule } from './security.module';
export {
  DEFAULT_SECURITY_OPTIONS, SECURITY_MODULE_OPTIONS, type SecurityModuleOptions, type HostResolver,
} from './security.module-definition';
export { hardenHttpServer, DEFAULT_REQUEST_TIMEOUT_MS, type HttpServerHardeningOptions } from '../../common/http-server-hardening';
