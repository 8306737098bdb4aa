/** A mistake in the command line: exit code 2 (see `exitWithError`). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Where the D1 database is and how to reach it. */
export interface TargetOptions {
  remote: boolean;
  env: string | undefined;
  persistTo: string | undefined;
  config: string;
}

/** A command line split into positional arguments, `--flag value` pairs and boolean `--flag`s. */
export interface ParsedFlags {
  positional: string[];
  values: Map<string, string>;
  flags: Set<string>;
}

/** The flags every command that opens the database takes. */
export const TARGET_VALUE_FLAGS = ["--env", "--persist-to", "--config"] as const;
export const TARGET_BOOLEAN_FLAGS = ["--local", "--remote"] as const;

/**
 * Splits `argv`; an unknown `-x`/`--x` or a value flag without its value is a {@link UsageError}.
 *
 * @example
 * ```ts
 * parseFlags(["down", "--persist-to", "/tmp/db"], [...TARGET_VALUE_FLAGS], [...TARGET_BOOLEAN_FLAGS, "--all"])
 * ```
 */
export function parseFlags(argv: readonly string[], valueFlags: readonly string[], booleanFlags: readonly string[]): ParsedFlags {
  const parsed: ParsedFlags = { positional: [], values: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // pnpm 10 passes a `--` through (`pnpm db:migrate:local -- --persist-to <dir>`): it separates nothing here.
    if (arg === "--") continue;
    if (valueFlags.includes(arg)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith("--")) throw new UsageError(`${arg} needs a value`);
      if (parsed.values.has(arg)) throw new UsageError(`${arg} given twice`);
      parsed.values.set(arg, value);
    } else if (booleanFlags.includes(arg)) {
      parsed.flags.add(arg);
    } else if (arg.startsWith("-")) {
      throw new UsageError(`unknown flag ${arg}`);
    } else {
      parsed.positional.push(arg);
    }
  }
  return parsed;
}

/** The database target from `--local`/`--remote`, `--env`, `--persist-to` and `--config`. */
export function parseTarget({ values, flags }: ParsedFlags): TargetOptions {
  if (flags.has("--local") && flags.has("--remote")) throw new UsageError("choose one of --local and --remote");
  if (flags.has("--remote") && values.has("--persist-to")) {
    throw new UsageError("--persist-to is for the local database; drop it or drop --remote");
  }
  return {
    remote: flags.has("--remote"),
    env: values.get("--env"),
    persistTo: values.get("--persist-to"),
    config: values.get("--config") ?? "wrangler.toml",
  };
}
