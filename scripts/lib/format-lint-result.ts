import type { CommandOutput } from "./check-database";
import type { LintResult } from "./lint-command";

const SHOWN_SQL = 160;

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
    return { out: [], err: [`error: cannot lint, a migration fails while being read (nothing was applied): ${result.error}`], exitCode };
  }
  const out = result.findings.flatMap((finding) => [
    `${finding.severity.padEnd(7)}  ${finding.code}  ${finding.migration ?? "run"}${finding.statement ? ` #${finding.statement}` : ""}: ${finding.message}`,
    ...(finding.sql === undefined ? [] : [`         ${oneLine(finding.sql)}`]),
  ]);
  const what = result.migrations.length === 0 ? "nothing to lint: no pending migrations" : `linted ${result.migrations.length} migration(s) on ${result.database}`;
  out.push(`${what}: ${errors} error(s), ${warnings} warning(s)`);
  return { out, err: [], exitCode };
}

function oneLine(sql: string): string {
  const text = sql.replace(/\s+/g, " ").trim();
  return text.length > SHOWN_SQL ? `${text.slice(0, SHOWN_SQL)}…` : text;
}
