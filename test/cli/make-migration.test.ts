import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeMigration } from "../../scripts/lib/make-migration";

// `make` edits migrations/index.ts as text: it must keep a registry that
// someone formatted differently valid, and touch only the registry object.

const NOW = new Date("2027-01-02T03:04:05Z");
const NEW = "20270102030405_add_invoices";

describe("makeMigration's registry edit", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "make-migration-"));
    for (const name of ["20000101000000_a", "20000102000000_b"]) {
      await writeFile(path.join(dir, `${name}.ts`), "export async function up() {}\n");
    }
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function registryAfterMake(registry: string): Promise<{ text: string; names: string[] }> {
    await writeFile(path.join(dir, "index.ts"), registry);
    await makeMigration(dir, "add_invoices", NOW);
    const imported: { migrations: Record<string, unknown> } = await import(`${path.join(dir, "index.ts")}?t=${Date.now()}`);
    return { text: await readFile(path.join(dir, "index.ts"), "utf8"), names: Object.keys(imported.migrations) };
  }

  it("registers after a last entry written without a trailing comma", async () => {
    const { names } = await registryAfterMake(`import * as m20000101000000_a from "./20000101000000_a";
import * as m20000102000000_b from "./20000102000000_b";

export const migrations = {
  "20000101000000_a": m20000101000000_a,
  "20000102000000_b": m20000102000000_b
};
`);

    expect(names).toEqual(["20000101000000_a", "20000102000000_b", NEW]);
  });

  it("adds to the migrations object, not to an object declared after it", async () => {
    const { names, text } = await registryAfterMake(`import * as m20000101000000_a from "./20000101000000_a";

export const migrations = {
  "20000101000000_a": m20000101000000_a,
};

export const notes = {
  "20000101000000_a": "baseline",
};
`);

    expect(names).toEqual(["20000101000000_a", NEW]);
    expect(text).toMatch(/export const notes = \{\n {2}"20000101000000_a": "baseline",\n\};\n$/);
  });
});
