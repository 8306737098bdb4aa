import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Where `pnpm dev` notes the URL of the GoCardless stand-in it serves
 * (git-ignored, in the working directory's `.wrangler/`), so
 * `pnpm billing:simulate` finds it on whatever port it got.
 */
export const STAND_IN_URL_FILE = path.join(".wrangler", "gocardless-stand-in.url");

/**
 * The stand-in URL `pnpm dev` noted, or undefined when none is noted (no
 * `pnpm dev` here, or one talking to GoCardless with a real token).
 *
 * @example
 * ```ts
 * const base = values.gocardless ?? (await readStandInUrl())
 * ```
 */
export async function readStandInUrl(): Promise<string | undefined> {
  const text = await readFile(STAND_IN_URL_FILE, "utf8").catch(() => "");
  return text.trim() || undefined;
}

/**
 * Notes `url` for `billing:simulate`, or (undefined) removes the note: `pnpm dev`
 * with a real token serves no stand-in, and a stopped one must not be found.
 *
 * @example
 * ```ts
 * await noteStandInUrl(standIn.url)
 * ```
 */
export async function noteStandInUrl(url: string | undefined): Promise<void> {
  if (url === undefined) return rm(STAND_IN_URL_FILE, { force: true });
  await mkdir(path.dirname(STAND_IN_URL_FILE), { recursive: true });
  await writeFile(STAND_IN_URL_FILE, `${url}\n`);
}
