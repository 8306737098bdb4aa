import { AsyncLocalStorage } from "node:async_hooks";
import { and, asc, desc, eq, getTableColumns, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Kysely } from "kysely";
import { app } from "../../src/app";
import { getAuth } from "../../src/auth/create-auth";
import { findAttemptByIdempotencyKey, listAttempts } from "../../src/billing/payment-attempts.repository";
import { listActivePlans } from "../../src/billing/plans.repository";
import { listTokens, MASKED_TOKEN_COLUMNS } from "../../src/billing/direct-debit-tokens.repository";
import { findSubscription, listSubscriptions } from "../../src/billing/subscriptions.repository";
import type { Env } from "../../src/env";
import { createDb } from "../../src/db/create-db";
import { getDb } from "../../src/db/get-db";
import type { DB } from "../../src/db/generated";
import * as schema from "../../src/db/schema";

/**
 * The Worker plus what `pnpm bench` compares it with, inside workerd. Never
 * deployed (scripts/bench-performance.ts serves it with `wrangler dev`):
 * - `GET /bench/raw/subscriptions`: the signed-in subscriptions read with the
 *   same session check (Better Auth's getSession with its cookie cache, the
 *   refreshed cookie passed on) and a raw D1 prepared
 *   statement instead of Hono routing and Kysely;
 * - `GET /bench/queries?user=…&subscription=…&key=…&rounds=N`: each hot query
 *   as Kysely (the repository function), as a raw D1 prepared statement of
 *   the same SQL, and as a Drizzle prepared statement, interleaved round by
 *   round; answers the medians and D1's rows read vs returned.
 *
 * Every answer but /bench/queries' carries `x-bench-d1-statements`: how many
 * statements the request sent to D1 (Better Auth's and the route's).
 */
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/bench/queries") return Response.json(await benchQueries(env, url.searchParams));
    const counter = { statements: 0 };
    const counted = countingEnv(env);
    const response = await statementCount.run(counter, () =>
      url.pathname === "/bench/raw/subscriptions" ? rawSubscriptions(request, counted) : app.fetch(request, counted, ctx),
    );
    const answer = new Response(response.body, response);
    answer.headers.set("x-bench-d1-statements", String(counter.statements));
    return answer;
  },
};

const statementCount = new AsyncLocalStorage<{ statements: number }>();
const countingEnvs = new WeakMap<Env, Env>();

/**
 * `env` with a D1 binding that counts each statement prepared for the current
 * request. One wrapper per isolate's env, so getAuth/getDb still build one
 * Better Auth and one Kysely per isolate (they cache per object).
 */
function countingEnv(env: Env): Env {
  let counted = countingEnvs.get(env);
  if (!counted) {
    const DB = new Proxy(env.DB, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (property === "prepare") {
          return (query: string) => {
            const counter = statementCount.getStore();
            if (counter) counter.statements++;
            return target.prepare(query);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    counted = { ...env, DB };
    countingEnvs.set(env, counted);
  }
  return counted;
}

const RAW_LIST_SUBSCRIPTIONS = `select "user_subscriptions".*, "subscription_plans"."code" as "planCode" from "user_subscriptions" inner join "subscription_plans" on "subscription_plans"."id" = "user_subscriptions"."planId" where "user_subscriptions"."userId" = ? order by "user_subscriptions"."createdAt" desc, "user_subscriptions"."id" desc`;

async function rawSubscriptions(request: Request, env: Env): Promise<Response> {
  const { headers, response: session } = await getAuth(env).api.getSession({ headers: request.headers, returnHeaders: true });
  if (!session) return Response.json({ error: { code: "UNAUTHENTICATED" } }, { status: 401 });
  const { results } = await env.DB.prepare(RAW_LIST_SUBSCRIPTIONS).bind(session.user.id).all();
  const response = Response.json({ subscriptions: results });
  for (const cookie of headers.getSetCookie()) response.headers.append("set-cookie", cookie);
  return response;
}

/** Calls timed together as one sample. */
const CALLS_PER_SAMPLE = 10;

interface QueryCase {
  name: string;
  kysely: (db: Kysely<DB>) => Promise<unknown>;
  drizzle: () => Promise<unknown>;
}

async function benchQueries(env: Env, params: URLSearchParams) {
  const userId = params.get("user")!;
  const subscriptionId = params.get("subscription")!;
  const key = params.get("key")!;
  const rounds = Number(params.get("rounds") ?? "50");
  const db = getDb(env.DB);
  const orm = drizzle(env.DB, { schema });
  const s = schema.userSubscriptions;
  const p = schema.subscriptionPlans;
  const a = schema.paymentAttempts;
  const t = schema.directDebitTokens;
  const maskedToken = Object.fromEntries(MASKED_TOKEN_COLUMNS.map((column) => [column, t[column]]));
  const withPlan = { ...getTableColumns(s), planCode: p.code };
  const drizzleList = orm.select(withPlan).from(s).innerJoin(p, eq(p.id, s.planId)).where(eq(s.userId, sql.placeholder("userId"))).orderBy(desc(s.createdAt), desc(s.id)).prepare();
  const drizzleFind = orm.select(withPlan).from(s).innerJoin(p, eq(p.id, s.planId)).where(and(eq(s.userId, sql.placeholder("userId")), eq(s.id, sql.placeholder("id")))).prepare();
  const drizzlePlans = orm.select().from(p).where(eq(p.active, 1)).orderBy(asc(p.amountMinor), asc(p.code)).prepare();
  const drizzleAttempts = orm.select().from(a).where(eq(a.userId, sql.placeholder("userId"))).orderBy(desc(a.createdAt), desc(a.id)).limit(21).prepare();
  const drizzleTokens = orm.select(maskedToken).from(t).where(eq(t.userId, sql.placeholder("userId"))).orderBy(desc(t.createdAt), desc(t.id)).limit(21).prepare();
  const drizzleByKey = orm.select().from(a).where(and(eq(a.userId, sql.placeholder("userId")), eq(a.idempotencyKey, sql.placeholder("key")))).prepare();
  const cases: QueryCase[] = [
    { name: "listSubscriptions", kysely: (k) => listSubscriptions(k, userId), drizzle: () => drizzleList.all({ userId }) },
    // The same query built and compiled on every call (how listSubscriptions ran before it was precompiled).
    { name: "  built per call", kysely: (k) => subscriptionsWithPlan(k).where("user_subscriptions.userId", "=", userId).orderBy("user_subscriptions.createdAt", "desc").orderBy("user_subscriptions.id", "desc").execute(), drizzle: () => drizzleList.all({ userId }) },
    { name: "findSubscription", kysely: (k) => findSubscription(k, userId, subscriptionId), drizzle: () => drizzleFind.get({ userId, id: subscriptionId }) },
    { name: "  built per call", kysely: (k) => subscriptionsWithPlan(k).where("user_subscriptions.userId", "=", userId).where("user_subscriptions.id", "=", subscriptionId).executeTakeFirst(), drizzle: () => drizzleFind.get({ userId, id: subscriptionId }) },
    { name: "listActivePlans", kysely: (k) => listActivePlans(k), drizzle: () => drizzlePlans.all() },
    { name: "listAttempts (first page)", kysely: (k) => listAttempts(k, userId, { after: undefined, limit: 21 }), drizzle: () => drizzleAttempts.all({ userId }) },
    { name: "listTokens (first page)", kysely: (k) => listTokens(k, userId, { after: undefined, limit: 21 }), drizzle: () => drizzleTokens.all({ userId }) },
    { name: "findAttemptByIdempotencyKey", kysely: (k) => findAttemptByIdempotencyKey(k, userId, key), drizzle: () => drizzleByKey.get({ userId, key }) },
  ];
  const report = [];
  for (const query of cases) {
    // The raw statement runs exactly the SQL Kysely compiles, prepared once.
    const compiled: { sql: string; parameters: readonly unknown[] }[] = [];
    const recording = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare") {
          return (text: string) => ({ bind: (...parameters: unknown[]) => (compiled.push({ sql: text, parameters }), target.prepare(text).bind(...parameters)) });
        }
        return Reflect.get(target, property, target);
      },
    });
    await query.kysely(createDb(recording));
    const { sql: text, parameters } = compiled[0]!;
    const raw = env.DB.prepare(text);
    const times = { kysely: [] as number[], raw: [] as number[], drizzle: [] as number[] };
    let rowsRead = 0;
    let rowsReturned = 0;
    for (let round = 0; round < rounds; round++) {
      // Interleaved, in a rotating order, so drift and warm-up hit all three alike.
      const runs: [keyof typeof times, () => Promise<unknown>][] = [
        ["kysely", () => query.kysely(db)],
        ["raw", async () => {
          const result = await raw.bind(...parameters).all();
          rowsRead = result.meta.rows_read;
          rowsReturned = result.results.length;
        }],
        ["drizzle", () => query.drizzle()],
      ];
      for (let i = 0; i < runs.length; i++) {
        const [label, run] = runs[(round + i) % runs.length]!;
        // workerd's clock only moves on I/O (whole milliseconds locally), so
        // one sample times a block of calls.
        const started = performance.now();
        for (let call = 0; call < CALLS_PER_SAMPLE; call++) await run();
        times[label].push((performance.now() - started) / CALLS_PER_SAMPLE);
      }
    }
    report.push({ name: query.name, kysely: median(times.kysely), raw: median(times.raw), drizzle: median(times.drizzle), rowsRead, rowsReturned });
  }
  return report;
}

/** The subscriptions-with-plan select as the repository builds it. */
function subscriptionsWithPlan(db: Kysely<DB>) {
  return db
    .selectFrom("user_subscriptions")
    .innerJoin("subscription_plans", "subscription_plans.id", "user_subscriptions.planId")
    .selectAll("user_subscriptions")
    .select("subscription_plans.code as planCode");
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}
