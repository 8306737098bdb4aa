import type { ForeignKey } from "./read-foreign-keys";
import type { ForeignKeyReference, SchemaStatement } from "./parse-schema-statement";

interface ModelTable {
  name: string;
  /** The table that existed before the run whose rows this one holds; undefined if the run created it. */
  existingTable: string | undefined;
}

/**
 * The tables and foreign keys as they will be at each point of a run, starting
 * from the database before the run and replaying the run's statements.
 *
 * Names compare case-insensitively, like SQLite's. A rename carries the
 * foreign keys that point at the table along, as SQLite does (and does on D1
 * even with `legacy_alter_table`).
 */
export class SchemaModel {
  readonly #tables = new Map<string, ModelTable>();
  #foreignKeys: ForeignKey[];

  constructor(tables: readonly string[], foreignKeys: readonly ForeignKey[]) {
    for (const name of tables) this.#tables.set(key(name), { name, existingTable: name });
    this.#foreignKeys = [...foreignKeys];
  }

  /** The table by that name at this point of the run, if any. */
  table(name: string): ModelTable | undefined {
    return this.#tables.get(key(name));
  }

  /** Foreign keys of other tables that reference `parent` at this point of the run. */
  referencesTo(parent: string): ForeignKey[] {
    return this.#foreignKeys.filter((fk) => key(fk.parent) === key(parent) && key(fk.child) !== key(parent));
  }

  /** Replays one statement. */
  apply(statement: SchemaStatement): void {
    switch (statement.kind) {
      case "create-table":
        if (this.table(statement.table)) return;
        this.#tables.set(key(statement.table), { name: statement.table, existingTable: undefined });
        this.#addReferences(statement.table, statement.references);
        return;
      case "add-column":
        this.#addReferences(statement.table, statement.references);
        return;
      case "drop-table":
        this.#tables.delete(key(statement.table));
        // Its children keep referencing the name; only its own keys go.
        this.#foreignKeys = this.#foreignKeys.filter((fk) => key(fk.child) !== key(statement.table));
        return;
      case "rename-table": {
        const table = this.table(statement.from);
        if (!table) return;
        this.#tables.delete(key(statement.from));
        this.#tables.set(key(statement.to), { ...table, name: statement.to });
        const renamed = (name: string) => (key(name) === key(statement.from) ? statement.to : name);
        this.#foreignKeys = this.#foreignKeys.map((fk) => ({ ...fk, child: renamed(fk.child), parent: renamed(fk.parent) }));
        return;
      }
    }
  }

  #addReferences(child: string, references: readonly ForeignKeyReference[]): void {
    for (const { parent, onDelete } of references) this.#foreignKeys.push({ child, parent, onDelete });
  }
}

// SQLite folds ASCII case in identifiers.
function key(name: string): string {
  return name.toLowerCase();
}
