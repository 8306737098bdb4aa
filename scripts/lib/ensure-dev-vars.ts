import { randomBytes } from "node:crypto";
import { access, readFile, writeFile } from "node:fs/promises";

/** Placeholder in .dev.vars.example that becomes 32 fresh random bytes (base64) in .dev.vars. */
export const RANDOM_SECRET_PLACEHOLDER = "__RANDOM_32_BYTES_BASE64__";

/**
 * Creates `.dev.vars` from `.dev.vars.example` when it does not exist, filling
 * every placeholder with its own fresh random secret, so `pnpm dev` works on
 * a fresh clone. An existing `.dev.vars` is never touched.
 *
 * @returns true when the file was created.
 * @example
 * ```ts
 * if (await ensureDevVars(".dev.vars", ".dev.vars.example")) console.log("created .dev.vars")
 * ```
 */
export async function ensureDevVars(devVarsPath: string, examplePath: string): Promise<boolean> {
  if (await exists(devVarsPath)) return false;
  const example = await readFile(examplePath, "utf8");
  // Only values are filled: the comment that explains the placeholder keeps it.
  const filled = example
    .split("\n")
    .map((line) =>
      line.trimStart().startsWith("#")
        ? line
        : line.replaceAll(RANDOM_SECRET_PLACEHOLDER, () => randomBytes(32).toString("base64")),
    )
    .join("\n");
  await writeFile(devVarsPath, filled, { flag: "wx", mode: 0o600 });
  return true;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
