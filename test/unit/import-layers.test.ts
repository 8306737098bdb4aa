import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// Layers point down: src/db < src/billing < src/http, src/routes, src/auth < the
// app's entry files. A file may import its own layer or a lower one, never a
// higher one (the domain must work without the web layer, the storage layer
// without the domain).

/** Layer of a file under src/, by its path relative to src/. */
const LAYERS: { layer: number; name: string; match: RegExp }[] = [
  { layer: 0, name: "db", match: /^(db\/|env\.ts$|config\/)/ },
  { layer: 1, name: "billing", match: /^billing\// },
  { layer: 2, name: "http/routes", match: /^(http|routes|auth)\// },
  // worker-configuration.d.ts is `wrangler types` output: it names the entry module.
  // src/openapi describes the routes (build time only, never in the Worker): it sits with the app.
  { layer: 3, name: "app", match: /^(app\.ts|base-app\.ts|index\.ts|scheduled\.ts|worker-configuration\.d\.ts)$|^openapi\// },
];

function layerOf(file: string): { layer: number; name: string } {
  const found = LAYERS.find(({ match }) => match.test(file));
  if (!found) throw new Error(`src/${file} is in no layer: add it to LAYERS in this test`);
  return found;
}

/** Every module specifier a TypeScript source imports or re-exports (static, type-only and dynamic). */
export function importSpecifiers(source: string): string[] {
  // JSDoc examples hold imports too (`import * as schema from "./db/schema"`): comments are not code.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specifiers: string[] = [];
  const patterns = [/\b(?:import|export)\b[^;"']*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\(\s*["']([^"']+)["']\s*\)/g];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) specifiers.push(match[1]!);
  return specifiers;
}

/** "src/billing/x.ts imports src/http/y (billing → http/routes)" for every import that points up. */
export function upwardImports(files: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    for (const specifier of importSpecifiers(source)) {
      if (!specifier.startsWith(".")) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const candidates = [target, `${target}.ts`, `${target}/index.ts`, `${target}.d.ts`];
      const resolved = candidates.find((candidate) => files.has(candidate));
      if (!resolved) throw new Error(`src/${file}: cannot resolve ${specifier}`);
      const to = layerOf(resolved);
      if (to.layer > from.layer) problems.push(`src/${file} imports src/${resolved} (${from.name} → ${to.name})`);
    }
  }
  return problems;
}

function sourceFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(root, full).split(path.sep).join("/"), readFileSync(full, "utf8"));
  }
  return files;
}

describe("imports point down the layers", () => {
  const files = sourceFiles(path.resolve(import.meta.dirname, "../../src"));

  it("no file under src/ imports a higher layer", () => {
    expect(upwardImports(files)).toEqual([]);
  });

  it("reads the imports of real files (so agreement is not zero imports)", () => {
    expect(importSpecifiers(files.get("routes/plans.ts")!)).toContain("../http/api-error");
    expect([...files.keys()].filter((file) => file.startsWith("db/")).length).toBeGreaterThan(5);
  });

  it.for([
    ["src/db importing src/billing", "db/x.ts", `import { BILLING } from "../billing/y";`, "db → billing"],
    ["src/billing importing src/http (type-only)", "billing/x.ts", `import type { ApiError } from "../http/y";`, "billing → http/routes"],
    ["src/billing re-exporting src/routes", "billing/x.ts", `export { plans } from "../routes/y";`, "billing → http/routes"],
    ["src/billing importing the app dynamically", "billing/deep/x.ts", `const app = await import("../../app");`, "billing → app"],
    ["src/db importing src/billing after a JSDoc example", "db/x.ts", `/** import { a } from "./b" */\nimport { c } from "../billing/y";`, "db → billing"],
    ["src/http importing the app across lines", "http/x.ts", `import {\n  app,\n} from "../app";`, "http/routes → app"],
  ])("fails on %s", ([, file, source, arrow]) => {
    const fixture = new Map([
      [file!, source!],
      ["billing/y.ts", ""],
      ["http/y.ts", ""],
      ["routes/y.ts", ""],
      ["app.ts", ""],
    ]);
    expect(upwardImports(fixture)).toEqual([expect.stringContaining(`(${arrow})`)]);
  });
});
