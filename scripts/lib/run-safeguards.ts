import type { BufferedRun, BufferedStatement } from "../../src/db/migration/batched-d1-dialect";
import {
  checksumStatements,
  compareChecksums,
  readAppliedMigrations,
  readRecordedChecksums,
  type EditedMigration,
  type MigrationChecksum,
} from "../../src/db/migration/migration-checksums";
import { RunRefusedError } from "./run-refused-error";
import type { Bookmark } from "./take-bookmark";

export interface RunSafeguardsOptions {
  /** The registry's current checksums (see `currentChecksums`). */
  checksums: Readonly<Record<string, MigrationChecksum>>;
  /** `--accept-edited`: applied migrations whose new checksum replaces the recorded one. */
  acceptEdited: readonly string[];
  /** For a `--remote` run: takes a Time Travel bookmark before a batch that applies or reverts anything. */
  takeBookmark?: () => Promise<Bookmark>;
  /** Prints a line at once (the bookmark, before the batch is sent). */
  log: (line: string) => void;
  now?: () => Date;
}

/** What the safeguards did in a run, for its report. */
export interface RunSafeguards {
  /** Pass as `runMigrations`' `beforeCommit`. */
  beforeCommit: (run: BufferedRun) => Promise<BufferedStatement[]>;
  /** The bookmark taken before the batch, if any. */
  bookmark(): Bookmark | undefined;
  /** Lines for a run that succeeded: checksums recorded or accepted. */
  summary(): string[];
}

/**
 * The checks a CLI run makes right before its batch: applied migrations whose
 * `up` changed since they were applied refuse the run (unless accepted);
 * missing checksums are recorded and new ones written in the run's batch; a
 * remote run that changes anything first takes a Time Travel bookmark, and
 * refuses to run without one.
 *
 * @example
 * ```ts
 * const safeguards = runSafeguards(db, { checksums, acceptEdited: [], log: console.log })
 * await runMigrations(db, { verb: "latest" }, { migrations, beforeCommit: safeguards.beforeCommit })
 * ```
 */
export function runSafeguards(database: D1Database, options: RunSafeguardsOptions): RunSafeguards {
  let bookmark: Bookmark | undefined;
  let summary: string[] = [];
  return {
    bookmark: () => bookmark,
    summary: () => summary,
    beforeCommit: async (run) => {
      const { edited, accepted, unrecorded, acceptedNeedlessly } = compareChecksums({
        applied: await readAppliedMigrations(database),
        recorded: await readRecordedChecksums(database),
        current: options.checksums,
        accept: options.acceptEdited,
      });
      if (acceptedNeedlessly.length > 0) {
        const name = acceptedNeedlessly[0]!;
        throw new RunRefusedError([
          `error: --accept-edited ${name}: not an applied migration whose up statements changed; there is nothing to accept`,
          `  to proceed: drop --accept-edited ${name}`,
        ]);
      }
      if (edited.length > 0) throw new RunRefusedError(edited.flatMap(describeEdit));
      if (options.takeBookmark && run.statements.length > 0) bookmark = await takeBookmarkOrRefuse(options.takeBookmark, options.log);
      summary = [
        ...unrecorded.map((name) => `recorded checksum  ${name} (applied before checksums were kept)`),
        ...accepted.map(({ name }) => `accepted edit      ${name} (its new checksum replaces the recorded one)`),
      ];
      return checksumStatements(
        run.statements,
        options.checksums,
        [
          ...unrecorded.map((name) => ({ name, checksum: options.checksums[name]!, source: "recorded" as const })),
          ...accepted.map(({ name, current }) => ({ name, checksum: current, source: "accepted" as const })),
        ],
        (options.now ?? (() => new Date()))(),
      );
    },
  };
}

async function takeBookmarkOrRefuse(take: () => Promise<Bookmark>, log: (line: string) => void): Promise<Bookmark> {
  let bookmark: Bookmark;
  try {
    bookmark = await take();
  } catch (error) {
    throw new RunRefusedError([
      `error: no Time Travel bookmark could be taken before this remote run: ${error instanceof Error ? error.message : String(error)}`,
      "  to proceed: fix that (e.g. 'wrangler login'), or run again with --no-bookmark (then no exact restore point is noted)",
    ]);
  }
  log(`bookmark ${bookmark.bookmark} (Time Travel, taken before this run)`);
  log(`  to restore the database as it was before this run, and lose every write made after it: ${bookmark.restoreCommand}`);
  return bookmark;
}

/**
 * The refusal for one edited migration: its name, what changed (the first
 * differing line of its `up` statements) and the two ways on.
 *
 * @example
 * ```ts
 * describeEdit(edited) // ["error: 2026…_billing_tables was edited after it was applied: …", "  to proceed: …"]
 * ```
 */
export function describeEdit({ name, recorded, current }: EditedMigration): string[] {
  return [
    `error: ${name} was edited after it was applied: ${firstChange(recorded.upSql, current.upSql)} (checksum recorded ${recorded.recordedAt})`,
    `  to proceed: restore its applied version and make the change in a new migration ('pnpm kysely:migrate make <name>'); or, if this database really has the edited schema ('pnpm kysely:migrate check' shows no drift), run again with --accept-edited ${name}`,
  ];
}

function firstChange(before: string, after: string): string {
  const was = before.split("\n");
  const now = after.split("\n");
  const at = was.findIndex((line, index) => line !== now[index]);
  if (at === -1 || at >= now.length - 1) return `its up statements now end after line ${now.length - 1} (they had ${was.length - 1} lines)`;
  if (at >= was.length - 1) return `its up statements have new lines from line ${at + 1}: ${excerpt(now[at]!, 0)}`;
  let column = 0;
  while (was[at]![column] === now[at]![column]) column++;
  return `line ${at + 1} of its up statements changed at column ${column + 1}: was ${excerpt(was[at]!, column)}, now ${excerpt(now[at]!, column)}`;
}

/** The line, or when long about 70 characters of it around `column`, marked where cut. */
function excerpt(line: string, column: number): string {
  if (line.length <= 100) return line;
  const start = Math.max(0, column - 30);
  const end = Math.min(line.length, start + 70);
  return `${start > 0 ? "…" : ""}${line.slice(start, end)}${end < line.length ? "…" : ""}`;
}
