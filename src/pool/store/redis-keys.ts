/** How the Redis store names its keys (the layout is described in redis-pool.scripts.ts). */
export class RedisKeys {
  /** The registry's hash tag, `{prefix}`: every registry key starts with it. */
  readonly registryTag: string;

  constructor(readonly prefix: string) {
    this.registryTag = `{${prefix}}`;
  }

  /** A registry key: `{prefix}<kind><id>` (one hash slot for the whole registry). */
  registry(kind: string, id = ''): string {
    return this.registryTag + kind + id;
  }

  /** A call key: `{prefix}call:<id>}<kind>`, tagged by the call id (calls spread over a cluster). */
  call(callId: string, kind: string): string {
    return `{${this.prefix}call:${callId}}${kind}`;
  }
}
