import type { LoggerService } from '@nestjs/common';

/** Collects log lines (Nest's logger hook), so a test can look for one. */
export class CaptureLogger implements LoggerService {
  readonly lines: { level: string; msg: string }[] = [];
  log(msg: unknown) { this.lines.push({ level: 'log', msg: String(msg) }); }
  warn(msg: unknown) { this.lines.push({ level: 'warn', msg: String(msg) }); }
  error(msg: unknown) { this.lines.push({ level: 'error', msg: String(msg) }); }
  debug() {}
  verbose() {}
  /** The lines matching `re`, of `level` when one is given. */
  matching(level: string, re: RegExp): { level: string; msg: string }[];
  matching(re: RegExp): { level: string; msg: string }[];
  matching(a: string | RegExp, b?: RegExp) {
    const [level, re] = typeof a === 'string' ? [a, b!] : [undefined, a];
    return this.lines.filter((l) => (level === undefined || l.level === level) && re.test(l.msg));
  }
}
