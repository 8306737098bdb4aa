import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { SECRET_PLACEHOLDER } from "../../src/config/secret-problems";

/** Placeholder in .dev.vars.example that becomes 32 fresh random bytes (base64) in .dev.vars. */
export const RANDOM_SECRET_PLACEHOLDER = SECRET_PLACEHOLDER;

/**
 * Makes `.dev.vars` usable without asking anything, so `pnpm dev` works on a
 * fresh clone and after the usual `cp .dev.vars.example .dev.vars`:
 * - missing: created from `.dev.vars.example`, each placeholder filled with
 *   its own fresh random secret (`"created"`);
 * - still holding placeholders: only those values are replaced, every other
 *   line kept byte for byte (`"repaired"`);
 * - otherwise left alone (`"unchanged"`).
 * Comments keep their placeholder: the example explains it there.
 *
 * @example
 * ```ts
 * if ((await ensureDevVars(".dev.vars", ".dev.vars.example")) !== "unchanged") console.log("wrote .dev.vars")
 * ```
 */
export async function ensureDevVars(devVarsPath: string, examplePath: string): Promise<"created" | "repaired" | "unchanged"> {
  const existing = await readFile(devVarsPath, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (existing === undefined) {
    await writeFile(devVarsPath, fillPlaceholders(await readFile(examplePath, "utf8")), { flag: "wx", mode: 0o600 });
    return "created";
  }
  const repaired = fillPlaceholders(existing);
  if (repaired === existing) return "unchanged";
  await writeFile(devVarsPath, repaired);
  return "repaired";
}

function fillPlaceholders(text: string): string {
  return text
    .split("\n")
    .map((line) =>
      line.trimStart().startsWith("#") ? line : line.replaceAll(RANDOM_SECRET_PLACEHOLDER, () => randomBytes(32).toString("base64")),
    )
    .join("\n");
}
