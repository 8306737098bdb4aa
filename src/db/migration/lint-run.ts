import type { Migration } from "kysely/migration";
import type { BufferedStatement } from "./batched-d1-dialect";
import { BATCH_LIMITS } from "./batch-limits";
import type { MigrationHandlingChildren } from "./find-destructive-changes";
import { ledgerEntries, migrationOfStatement } from "./ledger-entries";
import { LINT_RULES, type LintCode, type LintSeverity } from "./lint-rules";
import type { MirrorTable, StatementEffect } from "./run-analyser";
import { quoteIdentifier, sameName } from "./sql-identifier";

/** One finding of `kysely:migrate lint`. */
export interface LintFinding {
  code: LintCode;
  severity: LintSeverity;
  message: string;
  /** The migration the statement belongs to. */
  migration: string | undefined;
  /** 1-based position of the statement within its migration (undefined for a finding about the whole run). */
  statement: number | undefined;
  /** The statement as the runner would send it. */
  sql: string | undefined;
}

/** Reads of the target database's rows, which the data-dependent rules need (never writes). */
export interface LiveRows {
  /** Rows of a table that exists before the run. */
  rows(table: string): Promise<number>;
  /** Non-null values of one of its columns. */
  values(table: string, column: string): Promise<number>;
  /** Groups of rows sharing the same non-null values in `columns` (0: a UNIQUE over them holds). */
  duplicates(table: string, columns: readonly string[]): Promise<number>;
}

/**
 * {@link LiveRows} read from a D1 database with plain counts.
 *
 * @example
 * ```ts
 * await readLiveRows(env.DB).rows("user")
 * ```
 */
export function readLiveRows(database: D1Database): LiveRows {
  const count = async (query: string) => Number((await database.prepare(query).first<{ count: number }>())?.count ?? 0);
  return {
    rows: (table) => count(`select count(*) as count from ${quoteIdentifier(table)}`),
    values: (table, column) => count(`select count(${quoteIdentifier(column)}) as count from ${quoteIdentifier(table)}`),
    duplicates: (table, columns) => {
      const present = columns.map((column) => `${quoteIdentifier(column)} is not null`).join(" and ");
      return count(`select count(*) as count from (select 1 from ${quoteIdentifier(table)} where ${present} group by ${columns.map(quoteIdentifier).join(", ")} having count(*) > 1)`);
    },
  };
}

export interface LintRunInput {
  /** The run's statements and their effects on the copy of the schema (a previewed `runMigrations` report). */
  statements: readonly BufferedStatement[];
  effects: readonly StatementEffect[];
  /** The registry (a module's `handlesChildrenOf` turns CD101 into CD102). */
  migrations: Readonly<Record<string, Migration>>;
  /** Per Better Auth table, the columns Better Auth itself writes. */
  betterAuthColumns: Readonly<Record<string, readonly string[]>>;
  live: LiveRows;
  /** Report only this migration's statements (the others still shape the schema). */
  only?: string;
}

// Child actions that make a parent's drop silently delete or rewrite child rows.
const SILENT_ACTIONS = new Set(["CASCADE", "SET NULL", "SET DEFAULT"]);

/**
 * Applies {@link LINT_RULES} to a previewed run: what SQLite reported for each
 * statement on the copy of the schema, compared with the schema before the run
 * (what the deployed Worker reads) and, for the data-dependent rules, with the
 * target database's rows.
 *
 * @example
 * ```ts
 * const findings = await lintRun({ statements: report.statements, effects: report.effects, migrations, betterAuthColumns, live })
 * ```
 */
export async function lintRun(input: LintRunInput): Promise<LintFinding[]> {
  const { statements, effects, migrations, betterAuthColumns, live, only } = input;
  const findings: LintFinding[] = [];
  const seen = new Set<string>();
  const ledger = new Set(ledgerEntries(statements).map((entry) => entry.index));
  const liveTables = effects[0]?.before ?? [];
  const liveTable = (name: string) => liveTables.find((table) => sameName(table.name, name));
  const baColumns = (table: string) => Object.entries(betterAuthColumns).find(([name]) => sameName(name, table))?.[1];
  const encoder = new TextEncoder();
  // Per statement: its migration, and its 1-based position within that migration.
  const migrationOf = statements.map((_, index) => migrationOfStatement(statements, index));
  const positions: number[] = [];
  const counts = new Map<string | undefined, number>();
  for (const [index, migration] of migrationOf.entries()) {
    if (ledger.has(index)) continue;
    counts.set(migration, (counts.get(migration) ?? 0) + 1);
    positions[index] = counts.get(migration)!;
  }

  for (const [index, effect] of effects.entries()) {
    if (ledger.has(index)) continue;
    const statement = statements[index]!;
    const migration = migrationOf[index];
    const report = (code: LintCode, message: string, key = `${code} ${index} ${message}`) => {
      if (seen.has(key) || (only !== undefined && migration !== only)) return;
      seen.add(key);
      findings.push({ code, severity: LINT_RULES[code].severity, message, migration, statement: positions[index], sql: statement.sql });
    };
    const isLive = (name: string) => liveTable(name) !== undefined;
    const reappearsLater = (name: string) => effects.slice(index + 1).some((later) => later.after.some((table) => sameName(table.name, name)));
    const touchesBetterAuth = (table: string, what: string) => {
      if (baColumns(table) && isLive(table)) report("BA101", `${what} Better Auth's table "${table}": Better Auth validates its schema at run time; check its inserts and reads still match`, `BA101 ${migration} ${table.toLowerCase()}`);
    };

    const bytes = encoder.encode(statement.sql).length;
    if (bytes > BATCH_LIMITS.statementBytes) report("D1101", `${bytes} bytes of SQL; D1 accepts at most ${BATCH_LIMITS.statementBytes}: split it, or bind values as parameters`);
    if (statement.parameters.length > BATCH_LIMITS.boundParameters) {
      report("D1102", `binds ${statement.parameters.length} parameters; D1 accepts at most ${BATCH_LIMITS.boundParameters} per statement: insert fewer rows per statement`);
    }

    const { facts } = effect;
    const refusal = facts.error ?? effect.refused;
    if (refusal !== undefined) {
      report("SQ101", `SQLite refuses it against the schema at that point: ${refusal}`);
      continue;
    }
    if (!facts.changesSchema) continue;

    const dropped = effect.before.filter((table) => facts.droppedTables.some((name) => sameName(name, table.name)));
    for (const table of dropped) {
      const rebuilt = reappearsLater(table.name);
      if (isLive(table.name)) {
        const rows = await live.rows(table.name);
        if (!rebuilt && rows > 0) report("DS101", `drops "${table.name}", which holds ${rows} row(s): the runner refuses it without --force (which backs them up first)`);
        else report("DS102", rebuilt ? `drops "${table.name}" (${rows} row(s)) and creates it again: check the copy keeps every row` : `drops "${table.name}" (no rows now; any written before the run are lost)`);
        touchesBetterAuth(table.name, rebuilt ? "rebuilds" : "drops");
      }
      const children = effect.before.flatMap((child) =>
        sameName(child.name, table.name) ? [] : child.foreignKeys.filter((fk) => sameName(fk.parent, table.name) && SILENT_ACTIONS.has(fk.onDelete)).map((fk) => `"${child.name}" (ON DELETE ${fk.onDelete})`),
      );
      if (children.length > 0) {
        const declared = ((migration && (migrations[migration] as MigrationHandlingChildren | undefined)?.handlesChildrenOf) || []).some((name) => sameName(name, table.name));
        if (declared) report("CD102", `drops "${table.name}", a parent of ${children.join(", ")}; the migration declares handlesChildrenOf, so it must move those rows itself`);
        else report("CD101", `drops "${table.name}", a parent of ${children.join(", ")}: D1 enforces foreign keys, so the drop deletes or changes their rows; rebuild with rebuildTable and export handlesChildrenOf`);
      }
    }

    const vanished = effect.before.filter((table) => !dropped.includes(table) && !effect.after.some((other) => sameName(other.name, table.name)));
    const appeared = effect.after.filter((table) => !effect.before.some((other) => sameName(other.name, table.name)));
    if (vanished.length === 1 && appeared.length === 1) {
      const [from, to] = [vanished[0]!.name, appeared[0]!.name];
      if (isLive(from) && !reappearsLater(from)) report("BC101", `renames "${from}" to "${to}": the deployed Worker still reads "${from}"; deploy code that reads both first, or copy instead of renaming`);
      touchesBetterAuth(from, "renames");
    }

    for (const after of effect.after) {
      const before = effect.before.find((table) => sameName(table.name, after.name));
      const origin = liveTable(after.name);
      // A table that reappears under a live name (a rebuild) is compared with the live table.
      const base = before ?? origin;
      if (!base) {
        if (baColumns(after.name)) checkBetterAuthRequired(after, [], baColumns(after.name)!, report);
        continue;
      }
      if (JSON.stringify(base) !== JSON.stringify(after)) touchesBetterAuth(after.name, "changes");
      const lost = base.columns.filter((column) => !after.columns.some((name) => sameName(name, column)));
      const gained = after.columns.filter((column) => !base.columns.some((name) => sameName(name, column)));
      if (before && lost.length === 1 && gained.length === 1 && base.columns.length === after.columns.length) {
        if (origin?.columns.some((name) => sameName(name, lost[0]!))) {
          report("BC102", `renames "${after.name}"."${lost[0]}" to "${gained[0]}": the deployed Worker still reads "${lost[0]}"; add the new column and copy instead, dropping the old one once no deployed code reads it`);
        }
      } else if (origin) {
        for (const column of lost.filter((name) => origin.columns.some((other) => sameName(other, name)))) {
          const values = await live.values(origin.name, column);
          if (values > 0) report("DS103", `drops "${after.name}"."${column}", which holds ${values} value(s): the runner refuses it without --force (which backs them up first)`, `DS103 ${after.name.toLowerCase()}.${column.toLowerCase()}`);
          else report("DS104", `drops "${after.name}"."${column}" (no values now)`, `DS104 ${after.name.toLowerCase()}.${column.toLowerCase()}`);
        }
      }
      const wasRequired = origin?.required ?? base.required;
      const newlyRequired = after.required.filter((column) => !wasRequired.some((name) => sameName(name, column)));
      const ba = baColumns(after.name);
      if (ba) checkBetterAuthRequired(after, wasRequired, ba, report);
      if (origin && newlyRequired.length > 0) {
        const rows = await live.rows(origin.name);
        for (const column of newlyRequired) {
          const key = `MF ${after.name.toLowerCase()}.${column.toLowerCase()}`;
          const added = before !== undefined && gained.some((name) => sameName(name, column));
          // SQLite checks ADD COLUMN … NOT NULL without a default when it runs: it raises unless the table is empty.
          if (added && rows > 0) report("MF101", `adds "${after.name}"."${column}" NOT NULL with no default; the table holds ${rows} row(s), so SQLite refuses it: give it a default, or make it nullable`, key);
          else if (added) report("MF104", `adds "${after.name}"."${column}" NOT NULL with no default; the table is empty here, but SQLite refuses it on any database where it holds rows`, key);
          else if (rows > 0) report("MF102", `makes "${after.name}"."${column}" NOT NULL with no default; the table holds ${rows} row(s), each needs a value from the copy`, key);
        }
      }
      if (origin) {
        const hadUnique = (columns: readonly string[]) => origin.uniques.some((unique) => sameColumns(unique, columns));
        for (const unique of after.uniques.filter((columns) => !hadUnique(columns))) {
          if (!unique.every((column) => origin.columns.some((name) => sameName(name, column)))) continue;
          const groups = await live.duplicates(origin.name, unique);
          if (groups > 0) {
            report("MF103", `makes (${unique.map((column) => `"${column}"`).join(", ")}) of "${after.name}" UNIQUE, but ${groups} group(s) of its rows share values: remove the duplicates first`, `MF103 ${after.name.toLowerCase()} ${unique.join(",").toLowerCase()}`);
          }
        }
      }
    }
  }

  const sent = statements.length + 2;
  if (sent > BATCH_LIMITS.batchStatements && (only === undefined || ledgerEntries(statements).at(-1)?.migrationName === only)) {
    findings.push({
      code: "D1103",
      severity: LINT_RULES.D1103.severity,
      message: `the run is ${sent} statements (2 of them the runner's checks), more than the ${BATCH_LIMITS.batchStatements} one batch may hold: apply fewer migrations per run ('kysely:migrate up'), or split the migration`,
      migration: ledgerEntries(statements).at(-1)?.migrationName,
      statement: undefined,
      sql: undefined,
    });
  }
  return findings;
}

function checkBetterAuthRequired(
  table: MirrorTable,
  wasRequired: readonly string[],
  betterAuthColumns: readonly string[],
  report: (code: LintCode, message: string, key?: string) => void,
): void {
  for (const column of table.required) {
    if (wasRequired.some((name) => sameName(name, column)) || betterAuthColumns.some((name) => sameName(name, column))) continue;
    report(
      "BA102",
      `"${table.name}"."${column}" is NOT NULL with no default, and Better Auth's inserts do not set it: sign-ups would fail; make it nullable or give it a default`,
      `BA102 ${table.name.toLowerCase()}.${column.toLowerCase()}`,
    );
  }
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((column, index) => sameName(column, b[index]!));
}
