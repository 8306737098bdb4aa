import { getSchema } from "better-auth/db";
import { authOptions } from "../../src/auth/create-auth";
import type { Env } from "../../src/env";

/**
 * Per Better Auth table, the columns Better Auth itself writes, from Better
 * Auth's own schema for this Worker's auth config (`getSchema`, what its
 * migration check compares against) plus the `id` it always sets.
 *
 * @example
 * ```ts
 * betterAuthColumns().user // ["id", "name", "email", "emailVerified", …]
 * ```
 */
export function betterAuthColumns(): Record<string, string[]> {
  // Only the schema is read: the options' database and secrets are never used.
  const schema = getSchema(authOptions({} as Env));
  return Object.fromEntries(
    Object.entries(schema).map(([model, table]) => [
      (table as { modelName?: string }).modelName ?? model,
      ["id", ...Object.entries(table.fields).map(([name, field]) => field.fieldName ?? name)],
    ]),
  );
}
