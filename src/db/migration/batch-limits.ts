import type { BufferedStatement } from "./batched-d1-dialect";
import { migrationOfStatement } from "./ledger-entries";

/**
 * What one run's batch may hold. The per-statement limits are D1's own
 * (https://developers.cloudflare.com/d1/platform/limits/): a statement of at
 * most 100,000 bytes of SQL and 100 bound parameters (each statement must also
 * finish within 30 s, which cannot be known before sending). The statement
 * ceiling is ours: a run is one batch, and 1,000 statements keeps it within
 * D1's 1,000 queries per Worker invocation (paid plan) and, measured on local
 * D1 under load, near 20 s (docs/migrations.md, "Large runs").
 */
export const BATCH_LIMITS = {
  statementBytes: 100_000,
  boundParameters: 100,
  batchStatements: 1_000,
} as const;

/** The run would exceed a limit of {@link BATCH_LIMITS}; it was refused before anything was sent. */
export class BatchTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BatchTooLargeError";
  }
}

/**
 * Checks a run's statements (as sent, `framing` extra statements included in
 * the count) against {@link BATCH_LIMITS}; throws a {@link BatchTooLargeError}
 * that says how to split the run.
 *
 * @example
 * ```ts
 * assertWithinBatchLimits(run.statements, 2) // before applyBatch
 * ```
 */
export function assertWithinBatchLimits(statements: readonly BufferedStatement[], framing: number): void {
  const encoder = new TextEncoder();
  for (const [index, statement] of statements.entries()) {
    const where = `${migrationOfStatement(statements, index) ?? "the run"}: statement #${index + 1}`;
    const bytes = encoder.encode(statement.sql).length;
    if (bytes > BATCH_LIMITS.statementBytes) {
      throw new BatchTooLargeError(
        `${where} is ${bytes} bytes of SQL; D1 accepts at most ${BATCH_LIMITS.statementBytes}: split it into several statements (e.g. fewer rows per insert), or bind values as parameters`,
      );
    }
    if (statement.parameters.length > BATCH_LIMITS.boundParameters) {
      throw new BatchTooLargeError(
        `${where} binds ${statement.parameters.length} parameters; D1 accepts at most ${BATCH_LIMITS.boundParameters} per statement: insert fewer rows per statement`,
      );
    }
  }
  const total = statements.length + framing;
  if (total > BATCH_LIMITS.batchStatements) {
    throw new BatchTooLargeError(
      `the run is ${total} statements (${framing} of them the runner's checks), more than the ${BATCH_LIMITS.batchStatements} one batch may hold: apply fewer migrations per run ('kysely:migrate up' applies one), or split the largest migration into several`,
    );
  }
}
