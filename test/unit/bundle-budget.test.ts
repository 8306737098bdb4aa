import { describe, expect, it } from "vitest";
import { BUNDLE_BUDGET, bundleProblems } from "../../scripts/lib/bundle-budget";
import type { BundleSize } from "../../scripts/lib/measure-bundles";

// Shapes of real measurements (pnpm bundle:check, 2026-12-02): an auth-only Worker of
// ~837 KB minified / ~234 KB gzip; the numbers below are picked around the limit.
const AUTH_ONLY_MINIFIED = 836_842;
const AUTH_ONLY_GZIP = 234_153;

function bundle(minifiedBytes: number, gzipBytes: number, inputs: Record<string, number>, packages: string[], sources: string[] = Object.keys(inputs)): BundleSize {
  return { entry: "test", minifiedBytes, gzipBytes, sources, bytesByInput: new Map(Object.entries(inputs)), packages: new Set(packages) };
}

const AUTH_ONLY = bundle(AUTH_ONLY_MINIFIED, AUTH_ONLY_GZIP, { kysely: 198_602, zod: 107_661, "src/base-app.ts": 304 }, ["kysely", "zod"]);
const growth = (fraction: number) => ({ minified: Math.floor(AUTH_ONLY_MINIFIED * (1 + fraction)), gzip: Math.floor(AUTH_ONLY_GZIP * (1 + fraction)) });
const limit = BUNDLE_BUDGET.maxGrowth;

/** The full Worker: the auth-only inputs plus billing's, grown by `minified`/`gzip` fractions. */
function full(minified: number, gzip: number, extra: Record<string, number> = {}, extraPackages: string[] = [], extraSources: string[] = []): BundleSize {
  const inputs = { kysely: 198_602, zod: 107_661, "src/base-app.ts": 304, "src/routes/plans.ts": 1_265, ...extra };
  return bundle(growth(minified).minified, growth(gzip).gzip, inputs, ["kysely", "zod", ...extraPackages], [...Object.keys(inputs), ...extraSources]);
}

describe("bundleProblems (what pnpm bundle:check refuses)", () => {
  it.each([
    ["billing well under the limit", full(limit / 2, limit / 2), []],
    ["billing exactly at the limit", full(limit, limit), []],
    ["minified just past the limit", full(limit + 0.002, limit / 2), [`billing adds ${((limit + 0.002) * 100).toFixed(1)}% to the minified Worker (limit ${(limit * 100).toFixed(1)}%)`]],
    ["gzip just past the limit", full(limit / 2, limit + 0.002), [`billing adds ${((limit + 0.002) * 100).toFixed(1)}% to the gzip Worker (limit ${(limit * 100).toFixed(1)}%)`]],
    // The 2026-12-02 measurement of `--inject test/support/bundle-probes/zod-named-import.ts`: zod +365,775 bytes.
    [
      "a named zod import: past both ratios and the library allowance",
      full(0.512, 0.372, { zod: 107_661 + 365_775 }),
      [
        `billing adds 51.2% to the minified Worker (limit ${(limit * 100).toFixed(1)}%)`,
        `billing adds 37.2% to the gzip Worker (limit ${(limit * 100).toFixed(1)}%)`,
        "billing pulls in 365775 bytes of libraries the auth-only Worker does not hold (limit 4096): zod +365775",
      ],
    ],
    [
      "a small new library within the growth limit is still refused",
      full(limit / 2, limit / 2, { nanoid: 5_000 }, ["nanoid"]),
      ["billing pulls in 5000 bytes of libraries the auth-only Worker does not hold (limit 4096): nanoid +5000"],
    ],
    ["a few bytes more of a library the auth-only Worker already holds", full(limit / 2, limit / 2, { zod: 107_661 + 353 }), []],
    ["the migration runner bundled", full(limit / 2, limit / 2, {}, [], ["src/db/migration/run-migrations.ts", "migrations/index.ts"]), ["the Worker bundles migration/DDL code: src/db/migration/run-migrations.ts, migrations/index.ts"]],
    ["the Drizzle DDL schema bundled", full(limit / 2, limit / 2, {}, [], ["src/db/schema/billing.ts"]), ["the Worker bundles migration/DDL code: src/db/schema/billing.ts"]],
  ])("%s", (_name, worker, problems) => {
    expect(bundleProblems(worker, AUTH_ONLY)).toEqual(problems);
  });

  it("billing's own code is not counted against the library allowance", () => {
    expect(bundleProblems(full(limit / 2, limit / 2, { "src/billing/lifecycle/decide.ts": 20_000 }), AUTH_ONLY)).toEqual([]);
  });
});
