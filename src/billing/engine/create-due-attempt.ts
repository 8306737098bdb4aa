import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import { insertAttemptIfIdle } from "../payment-attempts.repository";
import { requestFingerprint } from "../request-fingerprint";
import type { CollectionCandidate } from "./due-work.repository";
import type { EngineWorkKind, WorkOutcome } from "./engine-summary";

/**
 * Creates the pending attempt a subscription owes: the next number of the
 * period owed (the one that starts at its `currentPeriodEnd`, or an older one
 * whose collection was reversed: `candidate.periodStart`), a `renewal` — or a
 * `retry` after a failure whose `nextRetryAt` passed. One D1 statement:
 * it inserts nothing when the subscription moved since the sweep, when an
 * attempt is already open, or when another run inserted this period's
 * attempt number first — the last two are unique indexes, so two overlapping
 * runs can never both create it (`skipped`). The idempotency key
 * `engine:<subscription>:<periodStart>:<n>` names the same collection in
 * every run.
 *
 * @example
 * ```ts
 * const { kind, outcome } = await createDueAttempt(db, candidate, now)
 * ```
 */
export async function createDueAttempt(
  db: Kysely<DB>,
  candidate: CollectionCandidate,
  now: Date,
): Promise<{ kind: EngineWorkKind; outcome: WorkOutcome; attemptId: string }> {
  const kind: EngineWorkKind = candidate.retry ? "retry" : "renewal";
  const idempotencyKey = `engine:${candidate.id}:${candidate.periodStart}:${candidate.attemptNumber}`;
  const at = now.toISOString();
  const id = crypto.randomUUID();
  const inserted = await insertAttemptIfIdle(
    db,
    {
      id,
      userId: candidate.userId,
      subscriptionId: candidate.id,
      directDebitTokenId: candidate.tokenId,
      amountMinor: candidate.amountMinor,
      currency: candidate.currency,
      // Not sent yet: the provider's id, failure and retry columns start NULL, refundDue 0 (column defaults).
      status: "pending",
      attemptNumber: candidate.attemptNumber,
      idempotencyKey,
      requestFingerprint: await requestFingerprint("ENGINE", `/subscriptions/${candidate.id}/periods/${candidate.periodStart}`, { attemptNumber: candidate.attemptNumber }),
      provider: candidate.tokenProvider,
      periodStart: candidate.periodStart,
      createdAt: at,
      updatedAt: at,
    },
    candidate,
  );
  return { kind, outcome: inserted ? "done" : "skipped", attemptId: id };
}
