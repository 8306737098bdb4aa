import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";

/** Where the reference page loads Scalar from: this Worker's own static assets. */
export const SCALAR_BUNDLE_URL = "/scalar/standalone.js";
const SCALAR_BUNDLE_FILE = `public${SCALAR_BUNDLE_URL}`;

/**
 * Copies `@scalar/api-reference`'s standalone bundle (the exact version in
 * package.json) into the static assets, where `/api/reference` loads it. Run
 * by wrangler's `[build]` before every `dev` and `deploy`; the copy is
 * git-ignored (4.8 MB of someone else's build).
 *
 * @example
 * ```ts
 * await copyScalarBundle(process.cwd())
 * ```
 */
export async function copyScalarBundle(projectDir: string): Promise<string> {
  const source = path.join(projectDir, "node_modules/@scalar/api-reference/dist/browser/standalone.js");
  const target = path.join(projectDir, SCALAR_BUNDLE_FILE);
  await mkdir(path.dirname(target), { recursive: true });
  await copyFile(source, target);
  return SCALAR_BUNDLE_FILE;
}
