import { existsSync } from 'node:fs';
import { ConfigError, type Env } from './env';

/**
 * Loads `.env` (development defaults; real environment variables win), then validates the
 * environment with `load`. A bad value ends the process with one line, `<program>: invalid
 * configuration: <VARIABLE>: <what is wrong>`, and exit code 1.
 */
export function readConfigOrExit<T>(program: string, load: (env: Env) => T): T {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return load(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${program}: invalid configuration: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
