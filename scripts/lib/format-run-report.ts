import { BatchOutcomeUnknownError, BatchStatementError } from "../../src/db/migration/apply-batch";
import { BatchTooLargeError } from "../../src/db/migration/batch-limits";
import { migrationOfStatement } from "../../src/db/migration/ledger-entries";
import type { MigrationRunReport } from "../../src/db/migration/run-migrations";
import { statementText } from "../../src/db/migration/statement-text";
import { UnsafeMigrationError } from "../../src/db/migration/unsafe-migration-error";
import { formatDestructiveChange } from "./format-destructive-change";
import { RunRefusedError } from "./run-refused-error";

/**
 * Turns a run report into CLI lines (one per migration, then what failed)
 * and the exit code: 0 success, 1 failure.
 */
export function formatRunReport(report: MigrationRunReport): { lines: string[]; exitCode: 0 | 1 } {
  if (report.doneByAnotherRun) {
    return {
      lines: report.results.map((r) => `${r.direction === "Up" ? "applied" : "reverted"} by another run  ${r.migrationName}`),
      exitCode: 0,
    };
  }
  const unknown = report.error instanceof BatchOutcomeUnknownError;
  // What happened to each migration in this run: when the run failed, none was
  // applied or reverted, whatever Kysely's per-migration status says (it
  // reports Success for a migration whose statements were only buffered).
  const lines = report.results.map(({ migrationName, direction, status }) => {
    const label = unknown
      ? "unknown "
      : status === "Error"
        ? "failed  "
        : report.error !== undefined || status !== "Success"
          ? "not run "
          : direction === "Up"
            ? "applied "
            : "reverted";
    return `${label} ${migrationName}`;
  });
  if (!report.error) {
    if (report.results.length === 0) lines.push("nothing to do: already at the requested migration");
    return { lines, exitCode: 0 };
  }
  lines.push(...describeError(report));
  lines.push(
    unknown
      ? "outcome unknown: the run is one atomic D1 batch, applied whole or not at all; check with `kysely:migrate list`"
      : report.error instanceof UnsafeMigrationError || report.error instanceof BatchTooLargeError || report.error instanceof RunRefusedError
        ? "nothing was applied: the run was refused before it was sent"
        : "nothing was applied: the run is one atomic D1 batch",
  );
  return { lines, exitCode: 1 };
}

function describeError(report: MigrationRunReport): string[] {
  const error = report.error;
  if (error instanceof BatchStatementError) {
    const migration = migrationOfStatement(report.statements, error.statementIndex);
    return [
      `error: ${migration ?? "the run"}: statement #${error.statementIndex + 1} of ${report.statements.length} failed: ${error.databaseMessage}`,
      `  ${statementText(error.statement)}`,
    ];
  }
  if (error instanceof RunRefusedError) return [...error.lines];
  if (error instanceof UnsafeMigrationError) {
    return error.changes.flatMap((change) => {
      const [what, howToProceed] = formatDestructiveChange(change);
      return [`error: ${what}`, howToProceed];
    });
  }
  const failed = report.results.find((result) => result.status === "Error");
  const message = error instanceof Error ? error.message : String(error);
  return [`error: ${failed ? `${failed.migrationName}: ` : ""}${message}`];
}
