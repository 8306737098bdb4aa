import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { tableNames, withLocalD1 } from "./local-d1-file";
import { billingPlans } from "../../scripts/commands/billing-plans";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { hasStackTrace, REPO_ROOT, runInProcess, runScript, shareLocalD1PerFile } from "./run-script";

// `pnpm billing:plans` against a temp --persist-to, its effects read back from
// the local D1's SQLite file. The command runs in this process (same lines and
// exit codes); the first test runs it as an operator does, as a process.

const SCRIPT = "scripts/billing-plans.ts";
const NAMES = Object.keys(migrations).sort();
let dir: string;

function plansIn(persistTo: string): Record<string, unknown>[] {
  return withLocalD1(persistTo, (db) =>
    db.prepare("select code, name, description, amountMinor, currency, interval, intervalCount, trialDays, active, createdBy, createdAt, updatedAt from subscription_plans order by code").all().map((row) => ({ ...row })),
  );
}
async function catalog(plans: unknown[]): Promise<string> {
  const file = path.join(dir, `plans-${crypto.randomUUID()}.json`);
  await writeFile(file, JSON.stringify({ plans }));
  return file;
}
const plan = (code: string, overrides: Record<string, unknown> = {}) => ({ code, name: `Plan ${code}`, amountMinor: 1000, currency: "EUR", interval: "month", ...overrides });
const sync = (...args: string[]) => runInProcess(billingPlans, [...args, "--persist-to", dir]);
shareLocalD1PerFile();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "billing-plans-"));
  const migrated = await runInProcess(kyselyMigrate, ["latest", "--persist-to", dir]);
  expect(migrated.code).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("pnpm billing:plans", () => {
  it("creates the committed catalog (billing/plans.json), then finds it unchanged", async () => {
    const committed = JSON.parse(await readFile(path.join(REPO_ROOT, "billing/plans.json"), "utf8")) as { plans: { code: string; amountMinor: number }[] };
    const first = await runScript(SCRIPT, ["--persist-to", dir]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout.trim().split("\n")).toEqual(committed.plans.map((p) => `created      ${p.code}`));
    const rows = plansIn(dir);
    expect(rows.map((row) => row.code)).toEqual(committed.plans.map((p) => p.code).sort());
    for (const row of rows) expect(row).toMatchObject({ active: 1, createdBy: null });

    const second = await sync();
    expect(second.stdout.trim().split("\n")).toEqual(committed.plans.map((p) => `unchanged    ${p.code}`));
    expect(plansIn(dir)).toEqual(rows);
  });

  it("updates a changed plan by code, keeping its id and createdAt; --dry-run writes nothing", async () => {
    const before = plansIn(dir);
    const file = await catalog([plan("starter-monthly", { name: "Starter (new name)", amountMinor: 600 })]);
    const dry = await sync("--file", file, "--dry-run");
    expect(dry.stdout.trim()).toBe("would update starter-monthly");
    expect(plansIn(dir)).toEqual(before);

    const run = await sync("--file", file);
    expect(run.stdout.trim()).toBe("updated      starter-monthly");
    const starter = plansIn(dir).find((row) => row.code === "starter-monthly")!;
    expect(starter).toMatchObject({ name: "Starter (new name)", amountMinor: 600, createdAt: before.find((row) => row.code === "starter-monthly")!.createdAt });
  });

  it.each([
    ["a negative amount", [plan("ok-1"), plan("neg", { amountMinor: -1 })], /plans\[1\]\.amountMinor/],
    ["a lower-case currency", [plan("cur", { currency: "eur" })], /plans\[0\]\.currency: must be an ISO-4217 code/],
    ["an unknown field", [plan("extra", { price: 10 })], /unknown field\(s\) price/],
    ["a duplicate code", [plan("twice"), plan("twice")], /'twice' appears twice/],
    ["no plans", [], /plans: /],
  ])("refuses a catalog with %s: exit 2, one line, nothing written", async (_name, plans, message) => {
    const before = plansIn(dir);
    const run = await sync("--file", await catalog(plans));
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(plansIn(dir)).toEqual(before);
  });

  it("refuses malformed JSON, a missing file and bad flags with exit 2 and one line", async () => {
    const broken = path.join(dir, "broken.json");
    await writeFile(broken, '{"plans": [');
    for (const args of [["--file", broken], ["--file", path.join(dir, "missing.json")], ["--bogus"], ["--local", "--remote"]]) {
      const run = await sync(...args);
      expect([args, run.code, run.stderr.trim().split("\n").length]).toEqual([args, 2, 1]);
    }
  });

  it("refuses to change the price of a plan with live subscribers (exit 1), writing nothing at all", async () => {
    withLocalD1(
      dir,
      (db) => {
        const now = new Date().toISOString();
        db.prepare(`insert into "user" (id, name, email, emailVerified, createdAt, updatedAt) values ('u1', 'Ivy', 'ivy@example.com', 0, ?, ?)`).run(now, now);
        db.prepare(
          `insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, cancelAtPeriodEnd, createdAt, updatedAt)
           select 's1', 'u1', id, 'active', ?, ?, 0, ?, ? from subscription_plans where code = 'pro-yearly'`,
        ).run(now, new Date(Date.now() + 86_400_000).toISOString(), now, now);
      },
      { write: true },
    );
    const before = plansIn(dir);
    const run = await sync("--file", await catalog([plan("brand-new"), plan("pro-yearly", { amountMinor: 99, interval: "year" })]));
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      "error: plan 'pro-yearly' has live subscribers, so its amountMinor cannot change; add a new plan with a new code instead",
    );
    expect(plansIn(dir)).toEqual(before);
  });

  it("on a database that was never migrated, says to run kysely:migrate latest first (exit 1) and creates nothing", async () => {
    const empty = await mkdtemp(path.join(tmpdir(), "billing-plans-unmigrated-"));
    try {
      const run = await runInProcess(billingPlans, ["--persist-to", empty]);

      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: "" });
      expect(run.stderr.trimEnd().split("\n")).toEqual([
        `error: the database is not migrated to latest (pending: ${NAMES.join(", ")}); run 'pnpm kysely:migrate latest --persist-to ${empty}' first`,
      ]);
      expect(tableNames(empty)).toEqual([]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
