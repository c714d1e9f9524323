import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeEnv, type Env } from './env';

/** What a program's `--help` says; its variables come from its configuration loader. */
export interface ProgramInfo {
  /** The command's name, as installed (`rtp-pool`). */
  name: string;
  /** One sentence: what the program is. */
  summary: string;
  /** The configuration loader the program starts with, run over an empty environment to list what it reads. */
  load: (env: Env) => unknown;
  /** Lines after the variable table. */
  notes?: string[];
}

/** The installed package's version: package.json sits two folders above the built dist/common/. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The `--help` text: usage, then one line per variable with its default and accepted values. */
export function helpText(p: ProgramInfo): string {
  const vars = describeEnv(p.load);
  const width = Math.max(...vars.map((v) => v.name.length));
  const defWidth = Math.max('DEFAULT'.length, ...vars.map((v) => (v.default ?? '-').length));
  const row = (a: string, b: string, c: string) => `  ${a.padEnd(width)}  ${b.padEnd(defWidth)}  ${c}`.trimEnd();
  return [
    `${p.name} ${packageVersion()}: ${p.summary}`,
    '',
    `Usage: ${p.name}            start with the configuration below`,
    `       ${p.name} --help     this text`,
    `       ${p.name} --version  the version`,
    '',
    'Configuration: environment variables; a .env file in the working directory supplies values',
    'for the ones not set (- : unset by default).',
    '',
    row('VARIABLE', 'DEFAULT', 'ACCEPTS'),
    ...vars.map((v) => row(v.name, v.default ?? '-', v.accepts ?? '')),
    ...(p.notes?.length ? ['', ...p.notes] : []),
    '',
  ].join('\n');
}

/**
 * Handles `--help` and `--version` (printed to stdout, exit 0) and refuses any other argument
 * (usage on stderr, exit 2). Returns true when the program should start.
 */
export function handleArgs(p: ProgramInfo, argv: string[] = process.argv.slice(2)): boolean {
  if (argv.length === 0) return true;
  const [arg] = argv;
  if (argv.length === 1 && (arg === '--help' || arg === '-h')) {
    process.stdout.write(helpText(p));
    return false;
  }
  if (argv.length === 1 && (arg === '--version' || arg === '-v')) {
    process.stdout.write(`${packageVersion()}\n`);
    return false;
  }
  process.stderr.write(`${p.name}: unknown argument "${argv.join(' ')}"; the configuration is read from environment variables (${p.name} --help)\n`);
  process.exitCode = 2;
  return false;
}
