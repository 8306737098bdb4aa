import { migrations } from "../../migrations/index";
import { runMigrations } from "../../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import { setUpStandInMandate } from "./gocardless-stand-in";
import type { LocalWorker } from "./local-worker";
import { usingD1 } from "./using-d1";

/**
 * A bounded load on a local Worker: signed-in billing reads and payment
 * starts (each with its own Idempotency-Key) from many concurrent clients,
 * some of which give up mid-request. Used by the CI load check (correctness)
 * and by `pnpm bench` (its timings).
 */

const PLANS = 20;
const USERS = 3;
/** A request unanswered after this long is hung (the runtime's own limit is far shorter for CPU, none for waiting). */
export const HUNG_AFTER_MS = 10_000;

/** Migrates the worker's state and puts {@link PLANS} paid monthly plans in the catalog; for `startLocalWorker`'s `prepare`. */
export async function prepareBillingState(config: string, persistTo: string): Promise<void> {
  await usingD1({ remote: false, env: undefined, persistTo, config }, async (db) => {
    const report = await runMigrations(db, { verb: "latest" }, { migrations, analyser: sqliteWasmAnalyser() });
    if (report.error) throw report.error;
    const now = new Date().toISOString();
    await db.batch(
      Array.from({ length: PLANS }, (_, i) =>
        db
          .prepare(
            `insert into subscription_plans (id, code, name, amountMinor, currency, interval, intervalCount, trialDays, active, createdAt, updatedAt)
             values (?, ?, ?, ?, 'EUR', 'month', 1, 0, 1, ?, ?)`,
          )
          .bind(`load-plan-${i}`, `load-${i}`, `Load ${i}`, 500 + i, now, now),
      ),
    );
  });
}

/** A signed-in user of the load, with the subscriptions their clients pay for. */
export interface LoadUser {
  cookie: string;
  subscriptionIds: string[];
}

/**
 * Signs up {@link USERS} users through the Worker; each subscribes to every
 * plan and stores a mandate, which is then made active and default directly
 * in D1 (as the provider's webhook would).
 */
export async function setUpLoadUsers(worker: LocalWorker): Promise<LoadUser[]> {
  const users: LoadUser[] = [];
  for (let n = 0; n < USERS; n++) {
    const email = `load-${n}-${crypto.randomUUID()}@example.com`;
    const signUp = await send(worker, "/api/auth/sign-up/email", { body: { email, password: "correct-horse-battery-staple", name: `load ${n}` } });
    if (signUp.status !== 200) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`);
    const cookie = signUp.headers
      .getSetCookie()
      .map((setCookie) => setCookie.split(";")[0])
      .join("; ");
    const user: LoadUser = { cookie, subscriptionIds: [] };
    for (let i = 0; i < PLANS; i++) {
      const response = await send(worker, "/api/billing/subscriptions", { cookie, body: { planCode: `load-${i}` } });
      if (response.status !== 201) throw new Error(`subscribe answered ${response.status}: ${await response.text()}`);
      user.subscriptionIds.push(((await response.json()) as { subscription: { id: string } }).subscription.id);
    }
    // The user's GoCardless customer, and a mandate set up for it at the stand-in.
    const customer = await send(worker, "/api/billing/provider-customers", { cookie, body: { provider: "gocardless", givenName: "Load", familyName: `User ${n}` } });
    if (customer.status !== 201) throw new Error(`creating the customer answered ${customer.status}: ${await customer.text()}`);
    const token = await setUpStandInMandate(worker.gocardless, ((await customer.json()) as { customer: { customerId: string } }).customer.customerId);
    const stored = await send(worker, "/api/billing/direct-debit-tokens", {
      cookie,
      body: { provider: "gocardless", token, mandateReference: `REF-${n}`, accountLast4: "4321", bankName: "Load Bank" },
    });
    if (stored.status !== 201) throw new Error(`storing a mandate answered ${stored.status}: ${await stored.text()}`);
    users.push(user);
  }
  await whileServed(() =>
    usingD1({ remote: false, env: undefined, persistTo: worker.persistTo, config: worker.config }, (db) =>
      db.prepare(`update direct_debit_tokens set status = 'active', isDefault = 1`).run(),
    ),
  );
  return users;
}

/** What happened to one Idempotency-Key: every answer it got, in order. */
export interface KeyOutcome {
  key: string;
  answers: (number | "aborted" | "hung")[];
}

export interface LoadResult {
  durationMs: number;
  requests: number;
  byStatus: Record<string, number>;
  /** Milliseconds, per answered signed-in read. */
  readLatencies: number[];
  keys: KeyOutcome[];
}

/**
 * `clients` loops for `durationMs`, each as one of `users`: reads (its
 * subscriptions, one subscription, its payment attempts) and payment starts
 * with a fresh Idempotency-Key on one of its subscriptions. Every
 * `abortEvery`-th request is abandoned after 0–20 ms; half the abandoned
 * payment starts are retried once with the same key.
 */
export async function runLoad(
  worker: LocalWorker,
  users: LoadUser[],
  options: { clients: number; durationMs: number; abortEvery: number },
): Promise<LoadResult> {
  const result: LoadResult = { durationMs: 0, requests: 0, byStatus: {}, readLatencies: [], keys: [] };
  const started = performance.now();
  const deadline = started + options.durationMs;
  const count = (outcome: number | "aborted" | "hung") => {
    result.requests++;
    const bucket = typeof outcome === "number" ? String(outcome) : outcome;
    result.byStatus[bucket] = (result.byStatus[bucket] ?? 0) + 1;
  };
  let sent = 0;
  const client = async (c: number) => {
    const user = users[c % users.length]!;
    for (let i = 0; performance.now() < deadline; i++) {
      const abort = ++sent % options.abortEvery === 0;
      const subscriptionId = user.subscriptionIds[(c + i) % user.subscriptionIds.length]!;
      if (i % 4 === 3) {
        const key = `load-${c}-${i}-${crypto.randomUUID()}`;
        const outcome: KeyOutcome = { key, answers: [] };
        result.keys.push(outcome);
        const path = `/api/billing/subscriptions/${subscriptionId}/payment-attempts`;
        const first = await timed(worker, path, { cookie: user.cookie, key, body: {}, abort });
        outcome.answers.push(first.outcome);
        count(first.outcome);
        // Half the abandoned starts are retried with their key, as a client would; the other half never learn.
        if (first.outcome === "aborted" && (c + i) % 2 === 0) {
          const retry = await timed(worker, path, { cookie: user.cookie, key, body: {}, abort: false });
          outcome.answers.push(retry.outcome);
          count(retry.outcome);
        }
      } else {
        const path = ["/api/billing/subscriptions", `/api/billing/subscriptions/${subscriptionId}`, "/api/billing/payment-attempts"][i % 4]!;
        const { outcome, ms } = await timed(worker, path, { cookie: user.cookie, abort });
        count(outcome);
        if (typeof outcome === "number") result.readLatencies.push(ms);
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, c) => client(c)));
  result.durationMs = performance.now() - started;
  return result;
}

/** Rows per Idempotency-Key after a load, from D1. */
export async function attemptRowsByKey(worker: LocalWorker): Promise<Map<string, number>> {
  return whileServed(() =>
    usingD1({ remote: false, env: undefined, persistTo: worker.persistTo, config: worker.config }, async (db) => {
    const { results } = await db
      .prepare(`select idempotencyKey as key, count(*) as n from payment_attempts group by userId, idempotencyKey`)
      .all<{ key: string; n: number }>();
    return new Map(results.map((row) => [row.key, row.n]));
  }),
  );
}

async function timed(
  worker: LocalWorker,
  path: string,
  init: { cookie: string; key?: string; body?: unknown; abort: boolean },
): Promise<{ outcome: number | "aborted" | "hung"; ms: number }> {
  const started = performance.now();
  const controller = new AbortController();
  const giveUp = init.abort ? setTimeout(() => controller.abort("aborted"), Math.random() * 20) : undefined;
  const hung = setTimeout(() => controller.abort("hung"), HUNG_AFTER_MS);
  try {
    const response = await send(worker, path, { ...init, signal: controller.signal });
    await response.arrayBuffer();
    return { outcome: response.status, ms: performance.now() - started };
  } catch (error) {
    if (controller.signal.aborted) return { outcome: controller.signal.reason as "aborted" | "hung", ms: performance.now() - started };
    throw error;
  } finally {
    clearTimeout(giveUp);
    clearTimeout(hung);
  }
}

function send(
  worker: LocalWorker,
  path: string,
  init: { cookie?: string; key?: string; body?: unknown; signal?: AbortSignal },
): Promise<Response> {
  const headers = new Headers({ origin: worker.url });
  if (init.cookie) headers.set("cookie", init.cookie);
  if (init.key) headers.set("idempotency-key", init.key);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return fetch(`${worker.url}${path}`, {
    method: init.body === undefined ? "GET" : "POST",
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    headers,
    signal: init.signal,
  });
}

/**
 * Runs `open` against the D1 files `wrangler dev` is serving. A second workerd
 * on the same SQLite files sometimes finds them busy ("Failed to get session
 * commit token"); the load has stopped by then, so a short retry gets through.
 */
async function whileServed<T>(open: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const busy = /session commit token|SQLITE_BUSY|database is locked/.test(String(error));
      if (!busy || attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}
