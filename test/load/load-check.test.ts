import { afterAll, beforeAll, expect, it } from "vitest";
import {
  attemptRowsByKey,
  prepareBillingState,
  runLoad,
  setUpLoadUsers,
  type LoadResult,
  type LoadUser,
} from "../../scripts/lib/billing-load";
import { startLocalWorker, type LocalWorker } from "../../scripts/lib/local-worker";
import { REPO_ROOT } from "../cli/run-script";

// A bounded load on `wrangler dev` (loopback, throwaway config, secrets and
// state): 50 concurrent clients for 15 s, signed-in billing reads and payment
// starts, every 10th request abandoned mid-flight. Correctness only (the
// numbers are pnpm bench's): no 5xx, nothing hung, and every Idempotency-Key
// has the rows its answers promise.

let worker: LocalWorker;
let users: LoadUser[];
let result: LoadResult;
let rowsByKey: Map<string, number>;

beforeAll(async () => {
  worker = await startLocalWorker(REPO_ROOT, { prepare: prepareBillingState });
  users = await setUpLoadUsers(worker);
  result = await runLoad(worker, users, { clients: 50, durationMs: 15_000, abortEvery: 10 });
  rowsByKey = await attemptRowsByKey(worker);
  console.log(`load check: ${result.requests} requests in ${(result.durationMs / 1000).toFixed(1)} s`, result.byStatus);
}, 300_000); // wrangler dev start, 50 sign-ups (scrypt) and 15 s of load, on 2 shared cores

afterAll(async () => {
  await worker?.stop();
});

it("answers every request it was not abandoned by, without a 5xx or a hang", () => {
  const failed = Object.entries(result.byStatus).filter(([status]) => status === "hung" || /^5/.test(status));
  expect(failed).toEqual([]);
  expect(result.byStatus["200"]).toBeGreaterThan(100);
});

it("keeps every write exactly once: one row per answered key, none for a refused one, 0 or 1 for an abandoned one", () => {
  // A key's last answer is what its client believes: a retry replays the first answer.
  const last = (key: (typeof result.keys)[number]) => key.answers.at(-1)!;
  const answered = result.keys.filter((key) => typeof last(key) === "number" && (last(key) as number) < 300);
  const refused = result.keys.filter((key) => typeof last(key) === "number" && (last(key) as number) >= 400);
  const abandoned = result.keys.filter((key) => last(key) === "aborted");

  expect([...rowsByKey].filter(([, rows]) => rows > 1)).toEqual([]);
  expect(answered.filter((key) => rowsByKey.get(key.key) !== 1)).toEqual([]);
  expect(refused.filter((key) => rowsByKey.has(key.key))).toEqual([]);
  // Every key is answered, refused or abandoned (hung ones fail the test above).
  expect(answered.length + refused.length + abandoned.length).toBe(result.keys.length);
  expect(answered.length).toBeGreaterThan(0);
  const abandonedWithRow = abandoned.filter((key) => rowsByKey.has(key.key)).length;
  console.log(`writes: ${answered.length} answered 2xx, ${refused.length} refused 4xx, ${abandoned.length} abandoned (${abandonedWithRow} with a row)`);
});

it("still answers a signed-in read after the load", async () => {
  const response = await fetch(`${worker.url}/api/billing/subscriptions`, { headers: { origin: worker.url, cookie: users[0]!.cookie } });
  expect(response.status).toBe(200);
});
