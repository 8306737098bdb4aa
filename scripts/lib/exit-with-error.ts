import { UsageError, USAGE } from "./parse-migrate-args";

/**
 * The one way a CLI here dies: a usage mistake prints the usage and exits 2;
 * anything else prints one line (no stack trace) and exits 1.
 */
export function exitWithError(error: unknown): never {
  if (error instanceof UsageError) {
    console.error(`error: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.DEBUG) console.error(error);
  process.exit(1);
}
