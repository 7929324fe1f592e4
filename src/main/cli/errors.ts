/** Bad input from the user: printed as one line naming the field, exit code 2, nothing written. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An error class whose errors are the user's to fix. */
type UserErrorKind = abstract new (...args: never[]) => Error;

/**
 * Runs `work` (sync or async), turning errors of the given kinds into one-line usage errors:
 * configuration problems found below the CLI (a bad parameter, a queue that cannot be used).
 */
export function asUsage<T>(kinds: readonly UserErrorKind[], work: () => T): T {
  const convert = (error: unknown): never => {
    if (kinds.some((kind) => error instanceof kind)) throw new UsageError((error as Error).message);
    throw error;
  };
  try {
    const result = work();
    return (result instanceof Promise ? result.catch(convert) : result) as T;
  } catch (error) {
    return convert(error);
  }
}

/** Parses an integer option, naming the option and the allowed range on failure. */
export function parseIntegerOption(option: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`${option} ${JSON.stringify(raw)} is not allowed; expected ${range}`);
  }
  return value;
}

/** Collects repeated KEY=VALUE options into a record. */
export function parseKeyValues(option: string, pairs: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`${option} ${JSON.stringify(pair)} is not allowed; expected KEY=VALUE`);
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}
