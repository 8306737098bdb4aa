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
    expect(await ensureDevVars(devVars, ".dev.vars.example")).toBe("created");

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

  it("leaves an existing .dev.vars without placeholders exactly as it is", async () => {
    const devVars = path.join(dir, ".dev.vars");
    await writeFile(devVars, "BETTER_AUTH_SECRET=mine\n");
    expect(await ensureDevVars(devVars, ".dev.vars.example")).toBe("unchanged");
    expect(await readFile(devVars, "utf8")).toBe("BETTER_AUTH_SECRET=mine\n");
  });

  it("repairs a copied .dev.vars.example: only the placeholder values change, each to its own secret", async () => {
    const devVars = path.join(dir, ".dev.vars");
    const copied = [
      `# keep this comment: ${RANDOM_SECRET_PLACEHOLDER}`,
      `BETTER_AUTH_SECRET=${RANDOM_SECRET_PLACEHOLDER}`,
      `TOKEN_ENCRYPTION_KEYS=k1:${RANDOM_SECRET_PLACEHOLDER}`,
      "WEBHOOK_SECRET_GOCARDLESS=my-own-secret",
      "BILLING_OPERATOR_EMAILS=ops@example.com",
      "",
    ].join("\n");
    await writeFile(devVars, copied);

    expect(await ensureDevVars(devVars, ".dev.vars.example")).toBe("repaired");

    const lines = (await readFile(devVars, "utf8")).split("\n");
    expect(lines[0]).toBe(`# keep this comment: ${RANDOM_SECRET_PLACEHOLDER}`);
    expect(lines[1]).toMatch(/^BETTER_AUTH_SECRET=[A-Za-z0-9+/]{43}=$/);
    expect(lines[2]).toMatch(/^TOKEN_ENCRYPTION_KEYS=k1:[A-Za-z0-9+/]{43}=$/);
    expect(lines[1]!.split("=")[1]).not.toBe(lines[2]!.split(":")[1]);
    expect(lines.slice(3)).toEqual(["WEBHOOK_SECRET_GOCARDLESS=my-own-secret", "BILLING_OPERATOR_EMAILS=ops@example.com", ""]);
  });
});
