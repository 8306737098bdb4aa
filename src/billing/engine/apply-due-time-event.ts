import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import { dueTimeEvent, settle } from "../lifecycle/due-time-event";
import type { LifecycleState } from "../lifecycle/decide";
import { findPaymentFacts, lifecycleStateOf, lifecycleWrites, sameLifecycleState } from "../subscription-lifecycle.repository";
import { runBatch } from "../d1-batch";
import type { TimeEventCandidate } from "./due-work.repository";
import type { EngineWorkKind, WorkOutcome } from "./engine-summary";

/**
 * Applies the time events due for one subscription at `now` through the
 * lifecycle module (`settle`: the same rule a read of the subscription
 * applies) and writes the result once, guarded by the state the sweep read:
 * a run that overlaps another, or a webhook that moved the row meanwhile,
 * changes nothing (`skipped`; the next run reads again). An ending also sets aside
 * the payments still in flight, in the write's batch. Two D1 queries (the batch is one call).
 *
 * @example
 * ```ts
 * const { kind, outcome } = await applyDueTimeEvent(db, d1, candidate, now)
 * ```
 */
export async function applyDueTimeEvent(
  db: Kysely<DB>,
  d1: D1Database,
  candidate: TimeEventCandidate,
  now: Date,
): Promise<{ kind: EngineWorkKind; outcome: WorkOutcome }> {
  const asRead = lifecycleStateOf(candidate);
  const facts = await findPaymentFacts(db, candidate.id);
  const first = dueTimeEvent(asRead, facts, now);
  // Each status has one time event (dueTimeEvent), so the status names the work.
  const byStatus = KIND_BY_STATUS[asRead.status] ?? "period_end";
  // Nothing due any more (a payment started or settled since the sweep read it).
  if (!first) return { kind: byStatus, outcome: "skipped" };
  const kind = asRead.cancelAtPeriodEnd === 1 && (first.type === "trial_ended" || first.type === "period_end_reached") ? "cancel_at_period_end" : byStatus;
  const { state } = settle(asRead, candidate, facts, null, now);
  if (sameLifecycleState(asRead, state)) return { kind, outcome: "skipped" };
  // An ending sets aside, in the same batch, a payment still in flight (lifecycleWrites): GoCardless is asked to cancel it.
  const [result] = await runBatch(d1, lifecycleWrites(db, candidate.id, asRead, state, now));
  return { kind, outcome: result!.meta.changes ? "done" : "skipped" };
}

/** The work a status's time event is counted as (`active`: period_end). */
const KIND_BY_STATUS: Partial<Record<LifecycleState["status"], EngineWorkKind>> = {
  trialing: "trial_end",
  incomplete: "incomplete_deadline",
  past_due: "retries_exhausted",
};
