import type { Kysely } from "kysely";
import * as z from "zod";
import type { DB } from "../db/generated";
import type { SubscriptionPlanRow } from "../db/billing-rows";
import type { Compilable } from "./d1-batch";
import { planInputSchema, type PlanInput } from "./plan-input";
import { hasLiveSubscribers, findPlanByCode, PRICING_FIELDS, upsertPlanQuery } from "./plans.repository";

/** A plan catalog file that cannot be used as is; the message is one line saying what to fix. */
export class PlanCatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanCatalogError";
  }
}

const catalogSchema = z.strictObject({ plans: z.array(planInputSchema).min(1) });

/**
 * Parses a plan catalog (`{ "plans": [ … ] }`, each entry as `POST /plans`
 * takes it). Every entry must be valid and codes unique; otherwise throws
 * {@link PlanCatalogError} naming the first problem, so nothing is written.
 *
 * @example
 * ```ts
 * const plans = parsePlanCatalog(await readFile("billing/plans.json", "utf8"), "billing/plans.json")
 * ```
 */
export function parsePlanCatalog(text: string, fileName: string): PlanInput[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PlanCatalogError(`${fileName} is not valid JSON (${(error as Error).message}); fix the file and rerun`);
  }
  const result = catalogSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("").replace(/^\./, "");
    const what = issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message;
    throw new PlanCatalogError(`${fileName}: ${where || "(top level)"}: ${what}; fix the file and rerun`);
  }
  const seen = new Set<string>();
  for (const plan of result.data.plans) {
    if (seen.has(plan.code)) throw new PlanCatalogError(`${fileName}: plan code '${plan.code}' appears twice; codes must be unique`);
    seen.add(plan.code);
  }
  return result.data.plans;
}

/** The catalog would change the price of a plan people are paying for; nothing is written. */
export class PlanPriceLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanPriceLockedError";
  }
}

/** What syncing one plan does. */
export interface PlanChange {
  code: string;
  action: "create" | "update" | "unchanged";
}

/**
 * Compares the catalog with the database: which plans are new, changed or
 * unchanged, and the upserts to run (in one batch). Throws
 * {@link PlanPriceLockedError} when a plan with live subscribers would change its
 * price, currency or interval — as the API refuses it — so nothing is written.
 *
 * @example
 * ```ts
 * const { changes, queries } = await planCatalogChanges(db, plans, new Date().toISOString())
 * await runBatch(d1, queries)
 * ```
 */
export async function planCatalogChanges(
  db: Kysely<DB>,
  plans: readonly PlanInput[],
  now: string,
): Promise<{ changes: PlanChange[]; queries: Compilable[] }> {
  const changes: PlanChange[] = [];
  const queries: Compilable[] = [];
  for (const plan of plans) {
    const row = { ...plan, description: plan.description ?? null, active: plan.active ? (1 as const) : (0 as const) };
    const existing = await findPlanByCode(db, plan.code);
    if (existing) {
      const differing = (Object.keys(row) as (keyof typeof row)[]).filter((field) => row[field] !== existing[field]);
      if (differing.length === 0) {
        changes.push({ code: plan.code, action: "unchanged" });
        continue;
      }
      await refusePricingChange(db, existing, differing);
      changes.push({ code: plan.code, action: "update" });
    } else {
      changes.push({ code: plan.code, action: "create" });
    }
    queries.push(upsertPlanQuery(db, { id: crypto.randomUUID(), ...row, createdBy: null, createdAt: now, updatedAt: now }));
  }
  return { changes, queries };
}

async function refusePricingChange(db: Kysely<DB>, existing: SubscriptionPlanRow, differing: string[]): Promise<void> {
  const pricing = PRICING_FIELDS.filter((field) => differing.includes(field));
  if (pricing.length === 0) return;
  if (await hasLiveSubscribers(db, existing.id)) {
    throw new PlanPriceLockedError(
      `plan '${existing.code}' has live subscribers, so its ${pricing.join(", ")} cannot change; add a new plan with a new code instead`,
    );
  }
}
