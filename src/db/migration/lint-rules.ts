/** How a lint finding weighs: an error fails `kysely:migrate lint` (exit 1), a warning does not. */
export type LintSeverity = "error" | "warning";

/** One rule of {@link LINT_RULES}: its severity and what it means, in a line. */
export interface LintRule {
  severity: LintSeverity;
  summary: string;
}

/**
 * Every rule `kysely:migrate lint` applies, by stable code (in the spirit of
 * Atlas's analyzers: https://atlasgo.io/lint/analyzers). Codes never change
 * meaning; a new rule takes a new code. Families:
 * - `DS` destructive: the change deletes data.
 * - `MF` might fail: whether it fails depends on the target database's rows.
 * - `BC` backward-incompatible: the Worker deployed now (built against the
 *   schema before the run) reads a name the run takes away.
 * - `CD` the D1 cascade trap: D1 always enforces foreign keys, so dropping a
 *   parent table runs its implicit DELETE and cascades to (or nulls) child rows.
 * - `D1` D1's documented limits (https://developers.cloudflare.com/d1/platform/limits/).
 * - `BA` Better Auth: it owns `user`, `session`, `account`, `verification`,
 *   `rateLimit`, writes their rows with its own column list, and validates
 *   their schema at run time.
 * - `SQ` SQLite itself refuses the statement.
 */
export const LINT_RULES = {
  DS101: { severity: "error", summary: "drops a table that holds rows" },
  DS102: { severity: "warning", summary: "drops a table (empty now, or rebuilt by the run)" },
  DS103: { severity: "error", summary: "drops a column that holds values" },
  DS104: { severity: "warning", summary: "drops a column (no values now)" },
  MF101: { severity: "error", summary: "adds a NOT NULL column with no default to a table that holds rows (SQLite refuses it)" },
  MF102: { severity: "warning", summary: "makes a column NOT NULL with no default on a table that holds rows: the copy must give every row a value" },
  MF103: { severity: "error", summary: "adds a UNIQUE constraint or index over values that hold duplicates" },
  MF104: { severity: "warning", summary: "adds a NOT NULL column with no default to a table that is empty here (it fails wherever the table holds rows)" },
  BC101: { severity: "warning", summary: "renames a table the deployed Worker reads" },
  BC102: { severity: "warning", summary: "renames a column the deployed Worker reads" },
  CD101: { severity: "error", summary: "drops or rebuilds a parent table whose children D1 would cascade-delete or null" },
  CD102: { severity: "warning", summary: "drops or rebuilds a parent table with cascading children that the migration declares it handles" },
  D1101: { severity: "error", summary: "a statement over D1's 100,000 bytes of SQL" },
  D1102: { severity: "error", summary: "a statement binding over D1's 100 parameters" },
  D1103: { severity: "error", summary: "a run over the runner's 1,000 statements per batch" },
  BA101: { severity: "warning", summary: "changes a Better Auth table" },
  BA102: { severity: "error", summary: "a NOT NULL column with no default on a Better Auth table, which Better Auth's inserts do not set" },
  SQ101: { severity: "error", summary: "SQLite refuses the statement against the schema at that point" },
} as const satisfies Record<string, LintRule>;

export type LintCode = keyof typeof LINT_RULES;

