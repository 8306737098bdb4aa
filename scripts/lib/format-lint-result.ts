import type { CommandOutput } from "./check-database";
import type { LintResult } from "./lint-command";

const SHOWN_LINES = 6;
const SHOWN_WIDTH = 160;

/**
 * What `kysely:migrate lint` prints: a line per finding (severity, code,
 * migration and statement, message; then the statement), a summary; or, with
 * `json`, one JSON document on stdout. Exit 1 on an error finding or a
 * migration that could not be read, else 0 (warnings included).
 *
 * @example
 * ```ts
 * const { out, err, exitCode } = formatLintResult(await lintCommand(...), { json: false })
 * ```
 */
export function formatLintResult(result: LintResult, { json }: { json: boolean }): CommandOutput {
  const errors = result.findings.filter((finding) => finding.severity === "error").length;
  const warnings = result.findings.length - errors;
  const exitCode = errors > 0 || result.error !== undefined ? 1 : 0;
  if (json) {
    return { out: [JSON.stringify({ ...result, errors, warnings, ok: exitCode === 0 }, null, 2)], err: [], exitCode };
  }
  if (result.error !== undefined) {
    return { out: [], err: [`error: cannot lint (nothing was applied): ${result.error}`], exitCode };
  }
  const out = result.findings.flatMap((finding) => [
    `${finding.severity.padEnd(7)}  ${finding.code}  ${finding.migration ?? "run"}${finding.statement ? ` #${finding.statement}` : ""}: ${finding.message}`,
    ...(finding.sql === undefined ? [] : shownSql(finding.sql).map((line) => `         ${line}`)),
  ]);
  const what = result.migrations.length === 0 ? "nothing to lint: no pending migrations" : `linted ${result.migrations.length} migration(s) on ${result.database}`;
  out.push(`${what}: ${errors} error(s), ${warnings} warning(s)`);
  return { out, err: [], exitCode };
}

// Line by line, as written: joining lines would turn what follows a `--` comment into comment.
function shownSql(sql: string): string[] {
  const lines = sql.trim().split("\n").map((line) => line.trimEnd());
  const shown = lines.slice(0, SHOWN_LINES).map((line) => (line.length > SHOWN_WIDTH ? `${line.slice(0, SHOWN_WIDTH)}…` : line));
  return lines.length > SHOWN_LINES ? [...shown, `… (${lines.length - SHOWN_LINES} more line(s))`] : shown;
}
