/** The kinds of due work one engine run handles. */
export const ENGINE_WORK_KINDS = [
  "trial_end",
  "period_end",
  "cancel_at_period_end",
  "incomplete_deadline",
  "retries_exhausted",
  "renewal",
  "retry",
  "submit",
  "cancel",
] as const;
export type EngineWorkKind = (typeof ENGINE_WORK_KINDS)[number];

/** What happened to one kind of work: selected as due, done, skipped (nothing to do any more, or another run did it), failed. */
export interface WorkCounts {
  due: number;
  done: number;
  skipped: number;
  failed: number;
}

/** What happened to one piece of due work. */
export type WorkOutcome = "done" | "skipped" | "failed";

/**
 * Counts per kind, and their totals: the one JSON line a run logs.
 *
 * @example
 * ```ts
 * const summary = new EngineSummary(); summary.count("renewal", "done"); summary.toJSON()
 * ```
 */
export class EngineSummary {
  readonly byKind: Partial<Record<EngineWorkKind, WorkCounts>> = {};
  /** `reached` when the run stopped starting provider calls at its deadline (the rest is `skipped`). */
  deadline: "reached" | undefined;

  /** Takes a whole sweep's counts for one kind (none when it found nothing due). */
  add(kind: EngineWorkKind, counts: WorkCounts): void {
    if (counts.due > 0) this.byKind[kind] = { ...counts };
  }

  count(kind: EngineWorkKind, outcome: WorkOutcome): void {
    const counts = (this.byKind[kind] ??= { due: 0, done: 0, skipped: 0, failed: 0 });
    counts.due++;
    counts[outcome]++;
  }

  totals(): WorkCounts {
    const total: WorkCounts = { due: 0, done: 0, skipped: 0, failed: 0 };
    for (const counts of Object.values(this.byKind)) {
      for (const key of ["due", "done", "skipped", "failed"] as const) total[key] += counts[key];
    }
    return total;
  }
}
