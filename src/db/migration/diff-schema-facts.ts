import type { SchemaFacts } from "./read-schema-facts";

/** One difference between the schema the migrations make and the live one. */
export type SchemaDifference =
  | { kind: "only-in-database"; key: string; actual: string }
  | { kind: "only-in-migrations"; key: string; expected: string }
  | { kind: "changed"; key: string; expected: string; actual: string };

/**
 * The differences between the facts the migrations produce (`expected`) and
 * the database's (`actual`), sorted by key.
 *
 * @example
 * ```ts
 * diffSchemaFacts(fromMigrations, live) // [{ kind: "only-in-database", key: 'column "user"."nickname"', actual: "#7 TEXT" }]
 * ```
 */
export function diffSchemaFacts(expected: SchemaFacts, actual: SchemaFacts): SchemaDifference[] {
  const keys = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  return keys.flatMap((key): SchemaDifference[] => {
    const want = expected.get(key);
    const have = actual.get(key);
    if (want === have) return [];
    if (want === undefined) return [{ kind: "only-in-database", key, actual: have! }];
    if (have === undefined) return [{ kind: "only-in-migrations", key, expected: want }];
    return [{ kind: "changed", key, expected: want, actual: have }];
  });
}

/**
 * One line per difference: `+` only in the database, `-` only in what the
 * migrations make, `~` in both but different (migrations → database).
 *
 * @example
 * ```ts
 * formatSchemaDifference(difference) // + column "user"."nickname": #7 TEXT
 * ```
 */
export function formatSchemaDifference(difference: SchemaDifference): string {
  switch (difference.kind) {
    case "only-in-database":
      return `+ ${difference.key}${difference.actual && `: ${difference.actual}`}`;
    case "only-in-migrations":
      return `- ${difference.key}${difference.expected && `: ${difference.expected}`}`;
    case "changed":
      return `~ ${difference.key}: ${difference.expected} → ${difference.actual}`;
  }
}
