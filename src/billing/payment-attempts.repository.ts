import type { Kysely } from "kysely";
import type { DB } from "../db/generated";
import type { NewPaymentAttempt, PaymentAttemptRow, SubscriptionPlanRow, UserSubscriptionRow } from "../db/schema/billing";
import { BILLING_LIMITS } from "./billing-limits";
import type { KeysetPosition } from "./keyset-cursor";

/** Attempts whose outcome is still open: a subscription has at most one (see insertAttemptIfIdle). */
export const OPEN_ATTEMPT_STATUSES = ["pending", "processing"] as const;

/**
 * The user's attempt made with this idempotency key, if any.
 *
 * @example
 * ```ts
 * const earlier = await findAttemptByIdempotencyKey(db, user.id, key)
 * ```
 */
export function findAttemptByIdempotencyKey(db: Kysely<DB>, userId: string, key: string): Promise<PaymentAttemptRow | undefined> {
  return db
    .selectFrom("payment_attempts")
    .selectAll()
    .where("userId", "=", userId)
    .where("idempotencyKey", "=", key)
    .executeTakeFirst();
}

/**
 * Inserts a new attempt in one statement that does nothing when
 * - the user already used the idempotency key (`on conflict do nothing`), or
 * - the subscription already has an open (pending/processing) attempt, so two
 *   different keys cannot start two collections of the same amount, or
 * - the subscription is no longer as `asRead` (status, period end,
 *   cancelAtPeriodEnd): the caller decided the payment was due from that
 *   state, and a payment that settled meanwhile has moved the period on.
 *
 * Race-safe by construction: SQLite runs the statement atomically. The caller
 * reads the row back by key to learn which case happened.
 *
 * @example
 * ```ts
 * await insertAttemptIfIdle(db, row, subscription)
 * const stored = await findAttemptByIdempotencyKey(db, row.userId, row.idempotencyKey)
 * ```
 */
export async function insertAttemptIfIdle(
  db: Kysely<DB>,
  row: NewPaymentAttempt & { subscriptionId: string },
  asRead: Pick<UserSubscriptionRow, "status" | "currentPeriodEnd" | "cancelAtPeriodEnd">,
): Promise<void> {
  const columns = Object.keys(row) as (keyof typeof row & string)[];
  await db
    .insertInto("payment_attempts")
    .columns(columns)
    .expression(
      db
        .selectNoFrom((eb) => columns.map((column) => eb.val(row[column]).as(column)))
        .where(({ and, not, exists, selectFrom }) =>
          and([
            not(
              exists(
                selectFrom("payment_attempts")
                  .select("id")
                  .where("subscriptionId", "=", row.subscriptionId)
                  .where("status", "in", OPEN_ATTEMPT_STATUSES),
              ),
            ),
            exists(
              selectFrom("user_subscriptions")
                .select("id")
                .where("id", "=", row.subscriptionId)
                .where("status", "=", asRead.status)
                .where("currentPeriodEnd", "=", asRead.currentPeriodEnd)
                .where("cancelAtPeriodEnd", "=", asRead.cancelAtPeriodEnd),
            ),
          ]),
        ),
    )
    .onConflict((conflict) => conflict.doNothing())
    .execute();
}

/**
 * The number the next attempt for a subscription gets: 1 + the failures since
 * its last success (so the retry schedule restarts after every success).
 *
 * Counts at most `BILLING_LIMITS.maxAttemptNumber` failures (more cannot
 * change a number capped there), so with the (subscriptionId, status,
 * createdAt) index its cost does not grow with the subscription's history.
 *
 * @example
 * ```ts
 * const attemptNumber = await nextAttemptNumber(db, subscription.id)
 * ```
 */
export async function nextAttemptNumber(db: Kysely<DB>, subscriptionId: string): Promise<number> {
  const failuresSinceLastSuccess = db
    .selectFrom("payment_attempts")
    .select("createdAt")
    .where("subscriptionId", "=", subscriptionId)
    .where("status", "=", "failed")
    .where((eb) =>
      eb(
        "createdAt",
        ">",
        eb.fn.coalesce(
          eb
            .selectFrom("payment_attempts")
            .select((inner) => inner.fn.max("createdAt").as("lastSuccess"))
            .where("subscriptionId", "=", subscriptionId)
            .where("status", "=", "succeeded"),
          eb.val(""),
        ),
      ),
    )
    .limit(BILLING_LIMITS.maxAttemptNumber);
  const row = await db
    .selectFrom(failuresSinceLastSuccess.as("failure"))
    .select((eb) => eb.fn.countAll<number>().as("failures"))
    .executeTakeFirstOrThrow();
  return Number(row.failures) + 1;
}

/**
 * One page of the user's attempts, newest first, after `after` (keyset
 * pagination on (createdAt, id): stable while new rows arrive).
 *
 * @example
 * ```ts
 * const rows = await listAttempts(db, user.id, { after: decodeCursor(cursor), limit: 21 })
 * ```
 */
export function listAttempts(
  db: Kysely<DB>,
  userId: string,
  page: { after: KeysetPosition | undefined; limit: number },
): Promise<PaymentAttemptRow[]> {
  let query = db.selectFrom("payment_attempts").selectAll().where("userId", "=", userId);
  const after = page.after;
  if (after) {
    // A row-value comparison, so SQLite seeks straight to the cursor in the
    // (userId, createdAt, id) index instead of walking every newer row.
    query = query.where((eb) => eb(eb.refTuple("createdAt", "id"), "<", eb.tuple(after.createdAt, after.id)));
  }
  return query.orderBy("createdAt", "desc").orderBy("id", "desc").limit(page.limit).execute();
}

/** One of the user's attempts; another user's id finds nothing. */
export function findAttempt(db: Kysely<DB>, userId: string, id: string): Promise<PaymentAttemptRow | undefined> {
  return db.selectFrom("payment_attempts").selectAll().where("userId", "=", userId).where("id", "=", id).executeTakeFirst();
}

/** What a payment webhook needs to know about the attempt it reports on. */
export interface AttemptForEvent {
  id: string;
  status: PaymentAttemptRow["status"];
  attemptNumber: number;
  refundDue: number;
  /** The attempt's subscription with its plan, if it has one. */
  subscription: (UserSubscriptionRow & { plan: Pick<SubscriptionPlanRow, "amountMinor" | "interval" | "intervalCount" | "trialDays"> }) | null;
}

/**
 * The attempt a provider's payment event is about, with its subscription and
 * plan: by the provider's payment id once known, else by our attempt id
 * (which the provider echoes from the payment's metadata).
 *
 * @example
 * ```ts
 * const attempt = await findAttemptForEvent(db, "gocardless", { providerPaymentId: "PM123", paymentAttemptId })
 * ```
 */
export async function findAttemptForEvent(
  db: Kysely<DB>,
  provider: string,
  ref: { providerPaymentId: string; paymentAttemptId: string | undefined },
): Promise<AttemptForEvent | undefined> {
  const attempt = await db
    .selectFrom("payment_attempts")
    .select(["id", "status", "attemptNumber", "refundDue", "subscriptionId"])
    .where("provider", "=", provider)
    .where((eb) =>
      eb.or([
        eb("providerPaymentId", "=", ref.providerPaymentId),
        eb.and([eb("id", "=", ref.paymentAttemptId ?? null), eb("providerPaymentId", "is", null)]),
      ]),
    )
    .executeTakeFirst();
  if (!attempt) return undefined;
  const { subscriptionId, ...fields } = attempt;
  if (subscriptionId === null) return { ...fields, subscription: null };
  const subscription = await db
    .selectFrom("user_subscriptions as subscription")
    .innerJoin("subscription_plans as plan", "plan.id", "subscription.planId")
    .selectAll("subscription")
    .select(["plan.amountMinor", "plan.interval", "plan.intervalCount", "plan.trialDays"])
    .where("subscription.id", "=", subscriptionId)
    .executeTakeFirstOrThrow();
  const { amountMinor, interval, intervalCount, trialDays, ...row } = subscription;
  return { ...fields, subscription: { ...row, plan: { amountMinor, interval, intervalCount, trialDays } } };
}
