/**
 * `tsx scripts/follow-column-recipe.ts`: follows docs/add-a-billing-column.md
 * once, from scratch, in a temporary copy of the repository (its tracked
 * files, node_modules linked), and fails (exit 1) when a step fails or the
 * files it touched are not the number the page states.
 *
 * The page's fenced blocks are the steps, in order:
 * - ```sh: each line is run in the copy (`pnpm` is corepack's);
 * - ```ts file=<path>: the file is written whole (`*` in the name matches
 *   the one file a previous step created, e.g. the timestamped migration);
 * - ```diff file=<path>: one hunk; its ` ` and `-` lines must appear once,
 *   in order, and become its ` ` and `+` lines.
 *
 * A CI step, not a test: it runs codegen, typecheck and a workerd test in the
 * copy (about a minute of CPU), more than pnpm test's time budget allows.
 *
 * @example
 * ```sh
 * corepack pnpm exec tsx scripts/follow-column-recipe.ts
 * ```
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { exitWithError } from "./lib/exit-with-error";

const RECIPE = "docs/add-a-billing-column.md";

/** One fenced block of the page. */
export interface RecipeStep {
  kind: "sh" | "file" | "diff";
  file?: string;
  body: string;
}

/**
 * The page's steps: its fenced blocks that are `sh`, or name a `file=`.
 *
 * @example
 * ```ts
 * recipeSteps("```sh\npnpm codegen\n```") // [{ kind: "sh", body: "pnpm codegen\n" }]
 * ```
 */
export function recipeSteps(markdown: string): RecipeStep[] {
  const steps: RecipeStep[] = [];
  for (const match of markdown.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const [, lang, info, body] = match as unknown as [string, string, string, string];
    const file = /\bfile=(\S+)/.exec(info)?.[1];
    if (lang === "sh") steps.push({ kind: "sh", body });
    else if (file) steps.push({ kind: lang === "diff" ? "diff" : "file", file, body });
  }
  return steps;
}

/**
 * `source` with one diff hunk applied: its ` ` and `-` lines must appear
 * exactly once, as a run of whole lines; they become its ` ` and `+` lines.
 *
 * @example
 * ```ts
 * applyHunk("a\nb\n", " a\n+x\n", "f.ts") // "a\nx\nb\n"
 * ```
 */
export function applyHunk(source: string, diff: string, file: string): string {
  const lines = diff.replace(/\n$/, "").split("\n");
  const before = lines.filter((line) => line.startsWith(" ") || line.startsWith("-")).map((line) => `${line.slice(1)}\n`).join("");
  const after = lines.filter((line) => line.startsWith(" ") || line.startsWith("+")).map((line) => `${line.slice(1)}\n`).join("");
  const at = source.indexOf(before);
  const wholeLines = at === 0 || source[at - 1] === "\n";
  if (!before || at < 0 || !wholeLines || source.indexOf(before, at + 1) >= 0) {
    throw new Error(`${file}: the lines a ${RECIPE} step changes are not found exactly once:\n${before}`);
  }
  return source.slice(0, at) + after + source.slice(at + before.length);
}

function resolveFile(dir: string, file: string): string {
  if (!file.includes("*")) return path.join(dir, file);
  const [prefix, suffix] = path.basename(file).split("*") as [string, string];
  const matches = readdirSync(path.join(dir, path.dirname(file))).filter((name) => name.startsWith(prefix) && name.endsWith(suffix));
  if (matches.length !== 1) throw new Error(`${file}: expected one match, found ${matches.length}`);
  return path.join(dir, path.dirname(file), matches[0]!);
}

/** The tracked files in a fresh directory; node_modules linked entry by entry, so caches stay in the copy. */
function copyRepository(root: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "column-recipe-"));
  const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(path.join(root, file))) continue;
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(path.join(root, file), path.join(dir, file));
  }
  mkdirSync(path.join(dir, "node_modules"));
  for (const entry of readdirSync(path.join(root, "node_modules"))) {
    if (entry !== ".cache") symlinkSync(path.join(root, "node_modules", entry), path.join(dir, "node_modules", entry));
  }
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=recipe", "-c", "user.email=recipe@localhost", ...args], { cwd: dir, stdio: "ignore" });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-qm", "before the recipe");
  return dir;
}

function run(dir: string, command: string): void {
  console.log(`$ ${command}`);
  const result = spawnSync("bash", ["-c", command.replace(/^pnpm\b/, "corepack pnpm")], {
    cwd: dir,
    stdio: "inherit",
    env: { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: "0" },
  });
  if (result.status !== 0) throw new Error(`'${command}' failed (exit ${result.status}) following ${RECIPE}`);
}

function main(): number {
  const root = process.cwd();
  const markdown = readFileSync(path.join(root, RECIPE), "utf8");
  const stated = Number(/touches (\d+) files/.exec(markdown)?.[1]);
  if (!stated) throw new Error(`${RECIPE} does not say how many files a new column touches ("touches N files")`);
  const dir = copyRepository(root);
  try {
    for (const step of recipeSteps(markdown)) {
      if (step.kind === "sh") {
        for (const line of step.body.split("\n").filter((line) => line.trim() && !line.startsWith("#"))) run(dir, line);
      } else {
        const target = resolveFile(dir, step.file!);
        writeFileSync(target, step.kind === "file" ? step.body : applyHunk(readFileSync(target, "utf8"), step.body, step.file!));
        console.log(`${step.kind === "file" ? "wrote" : "edited"} ${path.relative(dir, target)}`);
      }
    }
    const touched = execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: dir, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    if (touched.length !== stated) {
      console.error(`error: ${RECIPE} says a new column touches ${stated} files; following it touched ${touched.length}:\n${touched.join("\n")}`);
      return 1;
    }
    console.log(`${RECIPE} followed from scratch: ${touched.length} files touched, as stated; every check passed`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exit(main());
  } catch (error) {
    exitWithError(error);
  }
}
