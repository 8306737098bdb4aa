import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readSqlMigrations } from "../../scripts/lib/read-sql-migrations";

// What `pnpm migrations:d1` embeds from a migrations_dir: wrangler's and drizzle-kit's layouts.
describe("readSqlMigrations", () => {
  let root = "";
  const put = async (file: string, text: string) => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  };
  beforeEach(async () => (root = await mkdtemp(path.join(tmpdir(), "sql-migrations-"))));
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("reads <dir>/*.sql and <dir>/*/migration.sql, split by SQLite, with optional down files", async () => {
    const drizzle = `CREATE TABLE \`notes\` (\`id\` text PRIMARY KEY, \`body\` text DEFAULT ';' NOT NULL);\n--> statement-breakpoint\nCREATE INDEX \`notes_idx\` ON \`notes\` (\`body\`);`;
    await put("m/0000_init.sql", "-- created by wrangler d1 migrations create\nCREATE TABLE a (id integer);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET id = 1; END;\n");
    await put("m/0001_notes/migration.sql", drizzle);
    await put("m/0001_notes/snapshot.json", "{}");
    await put("m/down/0000_init.sql", "DROP TABLE a;");

    const sources = await readSqlMigrations(root, "m");

    expect([...sources.keys()]).toEqual(["0000_init", "0001_notes"]);
    expect(sources.get("0000_init")).toMatchObject({
      file: "m/0000_init.sql",
      ledgerName: "0000_init.sql",
      up: ["CREATE TABLE a (id integer)", "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET id = 1; END"],
      downFile: "m/down/0000_init.sql",
      down: ["DROP TABLE a"],
    });
    expect(sources.get("0001_notes")).toEqual({
      file: "m/0001_notes/migration.sql",
      ledgerName: "0001_notes",
      sha256: createHash("sha256").update(drizzle).digest("hex"),
      up: ["CREATE TABLE `notes` (`id` text PRIMARY KEY, `body` text DEFAULT ';' NOT NULL)", "CREATE INDEX `notes_idx` ON `notes` (`body`)"],
    });
  });

  it("refuses two files with one name, and a down file without its migration", async () => {
    await put("m/0000_init.sql", "select 1;");
    await put("m/0000_init/migration.sql", "select 1;");
    await expect(readSqlMigrations(root, "m")).rejects.toThrow("m/0000_init.sql and m/0000_init/migration.sql are both migration 0000_init: rename one");

    await rm(path.join(root, "m", "0000_init"), { recursive: true });
    await put("m/down/0001_gone.sql", "select 1;");
    await expect(readSqlMigrations(root, "m")).rejects.toThrow("m/down/0001_gone.sql has no migration m/0001_gone.sql to revert");
  });
});
