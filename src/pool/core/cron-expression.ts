import { validateCronExpression } from 'cron';

/** Why a cron expression is unusable, or undefined when it is fine. Six fields (seconds first) or an `@` alias. */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 6 && !expression.trim().startsWith('@')) return `must be a cron expression with seconds (6 fields, e.g. "*/15 * * * * *"), got "${expression}"`;
  const { valid, error } = validateCronExpression(expression);
  return valid ? undefined : `"${expression}" is not a valid cron expression: ${error?.message ?? 'unknown error'}`;
}
