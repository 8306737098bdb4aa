import { UsageError } from "./cli-flags";

/**
 * The one way a CLI here dies: a usage mistake prints what is wrong (and the
 * command's usage, when given) and exits 2; anything else prints one line (no
 * stack trace; DEBUG=1 shows it) and exits 1.
 *
 * @example
 * ```ts
 * main(argv).then((code) => process.exit(code), (error) => exitWithError(error, USAGE))
 * ```
 */
export function exitWithError(error: unknown, usage?: string): never {
  if (error instanceof UsageError) {
    console.error(`error: ${error.message}${usage ? `\n\n${usage}` : ""}`);
    process.exit(2);
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.DEBUG) console.error(error);
  process.exit(1);
}
