import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const TEMPLATE = `import type { Kysely } from "kysely";

// Typed Kysely<any> on purpose: a migration is frozen in time and must not
// follow later changes to the generated DB types.
export async function up(db: Kysely<any>): Promise<void> {
  // await db.schema.createTable("…").addColumn(…).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  // Undo up, in reverse order.
}
`;

/**
 * Creates `migrations/<YYYYMMDDHHmmss>_<name>.ts` and registers it in
 * `migrations/index.ts`. Returns the new file's path.
 *
 * @example
 * ```ts
 * await makeMigration("migrations", "add_invoices", new Date())
 * ```
 */
export async function makeMigration(migrationsDir: string, name: string, now: Date): Promise<string> {
  const fullName = `${timestamp(now)}_${name}`;
  const file = path.join(migrationsDir, `${fullName}.ts`);
  const registryFile = path.join(migrationsDir, "index.ts");
  const registry = await readFile(registryFile, "utf8");
  const identifier = `m${fullName}`;
  const importLine = `import * as ${identifier} from "./${fullName}";\n`;
  const entryLine = `  "${fullName}": ${identifier},\n`;
  const lastImport = registry.lastIndexOf("import * as ");
  const importEnd = registry.indexOf("\n", lastImport) + 1;
  // The `};` that closes the migrations object, not a later object's.
  const listStart = registry.search(/^export const migrations\b/m);
  const listEnd = listStart < 0 ? -1 : registry.indexOf("\n};", listStart) + 1;
  if (lastImport < 0 || listEnd <= 0) throw new Error(`${registryFile} is not in the expected shape (import lines, then the migrations object)`);
  // A last entry written without a trailing comma needs one before the new entry.
  const lastEntryEnd = registry.slice(0, listEnd).trimEnd().length;
  const comma = /[,{]$/.test(registry.slice(0, lastEntryEnd)) ? "" : ",";
  const updated =
    registry.slice(0, importEnd) +
    importLine +
    registry.slice(importEnd, lastEntryEnd) +
    comma +
    registry.slice(lastEntryEnd, listEnd) +
    entryLine +
    registry.slice(listEnd);
  await writeFile(file, TEMPLATE, { flag: "wx" });
  await writeFile(registryFile, updated);
  return file;
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}
