/**
 * `pnpm bundle:check`: fails (exit 1) when billing makes the Worker bigger than
 * its budget allows (scripts/lib/bundle-budget.ts: growth over the same Worker
 * without billing, minified or gzipped, and libraries only billing pulls in),
 * or when migration or DDL code is bundled into it.
 *
 * Both Workers are built by `wrangler deploy --dry-run --minify` (nothing is
 * uploaded); the source maps say which files each bundle holds. Why: every
 * byte ships to every isolate that starts, and a `{ z }` import of zod alone
 * once added 600 KB; migrations run from the CLI, never from the Worker.
 *
 * `--inject <module>` weighs a change before it is made: the module is built
 * into the Worker as if `src/index.ts` imported it and used all it exports.
 *
 * @example
 * ```sh
 * corepack pnpm bundle:check
 * corepack pnpm bundle:check --inject test/support/bundle-probes/zod-named-import.ts   # exits 1
 * ```
 */
import { parseArgs } from "node:util";
import { additions, BUNDLE_BUDGET, bundleProblems } from "./lib/bundle-budget";
import { UsageError } from "./lib/cli-flags";
import { exitWithError } from "./lib/exit-with-error";
import { measureBundles, type BundleSize } from "./lib/measure-bundles";

const USAGE = "usage: pnpm bundle:check [--inject <module>]";
const TOP_ADDITIONS = 12;

async function main(argv: string[]): Promise<number> {
  const { inject } = readFlags(argv);
  const { full, authOnly } = await measureBundles(process.cwd(), { inject });
  if (inject !== undefined) console.log(`with ${inject} built into the Worker`);
  for (const [label, key] of [["minified", "minifiedBytes"], ["gzip", "gzipBytes"]] as const) {
    const ratio = full[key] / authOnly[key];
    console.log(`${label.padEnd(9)} worker ${kb(full[key])}, auth-only ${kb(authOnly[key])}: ${ratio.toFixed(3)}× (limit ${(1 + BUNDLE_BUDGET.maxGrowth).toFixed(3)}×)`);
  }
  const added = additions(full, authOnly);
  const total = (inputs: [string, number][]) => inputs.reduce((sum, [, bytes]) => sum + bytes, 0);
  const packages = added.filter(([input]) => full.packages.has(input));
  console.log(`what billing adds: ${total(added)} bytes minified, ${total(packages)} of them libraries (limit ${BUNDLE_BUDGET.maxPackageBytes}); top ${TOP_ADDITIONS}:`);
  for (const [input, bytes] of added.slice(0, TOP_ADDITIONS)) console.log(`  ${String(bytes).padStart(7)}  ${input}`);
  const ownedByBilling = billingInBaseline(authOnly);
  if (ownedByBilling.length > 0) {
    console.log(`billing code the auth-only Worker also holds (its error handler and Better Auth hook use it; counted as baseline): ${ownedByBilling.map(([input, bytes]) => `${input} ${bytes}`).join(", ")}`);
  }
  const problems = bundleProblems(full, authOnly);
  for (const problem of problems) console.error(`error: ${problem}`);
  if (problems.length === 0) console.log("bundle ok: billing within budget, no migration or DDL code bundled");
  return problems.length === 0 ? 0 : 1;
}

function readFlags(argv: string[]): { inject?: string } {
  try {
    const { values } = parseArgs({ args: argv, options: { inject: { type: "string" } }, strict: true, allowPositionals: false });
    return values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `src/billing/…` inputs of the auth-only Worker: billing code its shared parts import, which the ratio does not charge to billing. */
function billingInBaseline(authOnly: BundleSize): [string, number][] {
  return [...authOnly.bytesByInput].filter(([input]) => input.startsWith("src/billing/"));
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

main(process.argv.slice(2)).then((code) => process.exit(code), (error) => exitWithError(error, USAGE));
