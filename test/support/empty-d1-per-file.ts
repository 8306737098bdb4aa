import { env } from "cloudflare:workers";
import { beforeAll } from "vitest";
import { emptyDatabase } from "./empty-database";

/**
 * Every worker test file starts on empty D1 databases, as if workerd had just
 * started. The worker project runs its files one after another in one workerd
 * (`isolate: false`: a workerd per file cost ~1.3 s of start-up each), so the
 * databases outlive a file; this setup file empties them before each file.
 * A file still shares its database between its own tests, as before.
 */
beforeAll(async () => {
  const bindings = env as unknown as { DB: D1Database; MIGRATION_SCRATCH: D1Database };
  await Promise.all([emptyDatabase(bindings.DB), emptyDatabase(bindings.MIGRATION_SCRATCH)]);
});
