/** Commander argument parsers shared by the commands: a bad value is a usage error (exit 2) quoting it. */
import { InvalidArgumentError as UsageError } from 'commander';

/** An integer in [min, max] written in digits. */
export function integerIn(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `≥ ${min} and ≤ ${max.toLocaleString('en-US')}`;
      throw new UsageError(`must be an integer ${range}, got '${v}'`);
    }
    return n;
  };
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(choices: readonly T[]) {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) throw new UsageError(`must be one of ${choices.join(', ')}, got '${v}'`);
    return v as T;
  };
}
