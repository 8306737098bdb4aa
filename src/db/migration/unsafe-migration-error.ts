import type { DestructiveChange } from "./find-destructive-changes";

/**
 * The run was refused before anything was applied: it drops rows (and was not
 * forced) or drops a parent whose children D1 would change (and the migration
 * does not declare that it handles them).
 */
export class UnsafeMigrationError extends Error {
  constructor(
    /** What made the run unsafe; see {@link DestructiveChange}. */
    readonly changes: readonly DestructiveChange[],
  ) {
    super(`refused ${changes.length} destructive change(s): ${changes.map((change) => `${change.kind} "${change.table}"`).join(", ")}`);
    this.name = "UnsafeMigrationError";
  }
}

/**
 * The changes that stop a run: dropped rows unless `force`, changed children always
 * (only the migration's own `handlesChildrenOf` lifts those, and such changes are
 * never reported).
 */
export function blockingChanges(changes: readonly DestructiveChange[], force: boolean): DestructiveChange[] {
  return changes.filter((change) => change.kind === "changes-children" || !force);
}
