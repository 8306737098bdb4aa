import { UsageError } from "./cli-flags";

/**
 * What a CLI here prints and returns when `error` ends it: a usage mistake
 * says what is wrong (and the command's usage, when given), exit 2; anything
 * else is one line, exit 1.
 *
 * @example
 * ```ts
 * failureReport(new UsageError("missing command"), USAGE) // { code: 2, lines: ["error: missing command", "", USAGE] }
 * ```
 */
export function failureReport(error: unknown, usage?: string): { code: 1 | 2; lines: string[] } {
  if (error instanceof UsageError) return { code: 2, lines: [`error: ${error.message}`, ...(usage ? ["", usage] : [])] };
  return { code: 1, lines: [`error: ${error instanceof Error ? error.message : String(error)}`] };
}

/**
 * The one way a CLI here dies: prints {@link failureReport}'s lines on stderr
 * (DEBUG=1 adds the stack trace) and exits with its code.
 *
 * @example
 * ```ts
 * main(argv).then((code) => process.exit(code), (error) => exitWithError(error, USAGE))
 * ```
 */
export function exitWithError(error: unknown, usage?: string): never {
  const { code, lines } = failureReport(error, usage);
  console.error(lines.join("\n"));
  if (code === 1 && process.env.DEBUG) console.error(error);
  process.exit(code);
}
