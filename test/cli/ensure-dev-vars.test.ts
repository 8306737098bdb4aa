import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureDevVars, RANDOM_SECRET_PLACEHOLDER } from "../../scripts/lib/ensure-dev-vars";

describe("ensureDevVars (pnpm dev's first-run .dev.vars)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "dev-vars-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("fills every placeholder of the shipped example with its own 32 random bytes, leaving comments alone", async () => {
    const devVars = path.join(dir, ".dev.vars");
    expect(await ensureDevVars(devVars, ".dev.vars.example")).toBe(true);

    const example = await readFile(".dev.vars.example", "utf8");
    const created = await readFile(devVars, "utf8");
    const exampleLines = example.split("\n");
    const createdLines = created.split("\n");
    expect(createdLines).toHaveLength(exampleLines.length);

    const secrets: string[] = [];
    exampleLines.forEach((line, i) => {
      if (line.startsWith("#") || !line.includes(RANDOM_SECRET_PLACEHOLDER)) {
        expect(createdLines[i]).toBe(line);
        return;
      }
      const [prefix, suffix] = line.split(RANDOM_SECRET_PLACEHOLDER);
      const value = createdLines[i]!.slice(prefix!.length, createdLines[i]!.length - suffix!.length);
      expect(Buffer.from(value, "base64")).toHaveLength(32);
      secrets.push(value);
    });
    expect(secrets.length).toBeGreaterThan(0);
    expect(new Set(secrets).size).toBe(secrets.length);
    expect(created).not.toMatch(new RegExp(`^[^#].*${RANDOM_SECRET_PLACEHOLDER}`, "m"));
  });

  it("never touches an existing .dev.vars", async () => {
    const devVars = path.join(dir, ".dev.vars");
    await writeFile(devVars, "BETTER_AUTH_SECRET=mine\n");
    expect(await ensureDevVars(devVars, ".dev.vars.example")).toBe(false);
    expect(await readFile(devVars, "utf8")).toBe("BETTER_AUTH_SECRET=mine\n");
  });
});
