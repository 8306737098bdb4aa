import { authOptions } from "../../src/auth/create-auth";
import type { Env } from "../../src/env";

/** The tables Better Auth keeps for this Worker's config (the baseline migration creates them). */
export const BETTER_AUTH_TABLES = ["user", "session", "account", "verification", "rateLimit"];

/**
 * Better Auth's own schema check (`getMigrations()`, what `npx auth migrate`
 * plans) for this Worker's auth config, on `database`: one line per thing
 * Better Auth would still create, add or index, or calls unsafe; empty when
 * the tables match. Reads only.
 *
 * It gets the raw D1 binding, not our Kysely dialect: D1's authorizer refuses
 * the index query Better Auth runs through a dialect (better-auth#10976).
 *
 * @example
 * ```ts
 * await betterAuthSchemaProblems(db) // ['column "user"."image" is missing']
 * ```
 */
export async function betterAuthSchemaProblems(database: D1Database): Promise<string[]> {
  const { getMigrations } = await import("better-auth/db/migration");
  // Only the schema matters here: the secret and URL are placeholders no request sees.
  const env = { DB: database, BETTER_AUTH_SECRET: "schema-check-only-".padEnd(40, "x"), BETTER_AUTH_URL: "http://localhost" } as unknown as Env;
  const plan = await getMigrations({ ...authOptions(env), database }, { throwOnUnsafe: false });
  return [
    ...plan.toBeCreated.map(({ table }) => `table "${table}" is missing`),
    ...plan.toBeAdded.flatMap(({ table, fields }) => Object.keys(fields).map((field) => `column "${table}"."${field}" is missing`)),
    ...plan.toBeAddedIndexes.map(({ table, name }) => `index ${name} on "${table}" is missing`),
    ...plan.unsafeChanges,
    ...plan.schemaProblems,
  ];
}
