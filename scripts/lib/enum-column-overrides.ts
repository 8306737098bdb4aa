import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { is } from "drizzle-orm";
import * as schema from "../../src/db/schema";

/**
 * kysely-codegen column overrides for every Drizzle column declared with an
 * enum (`text("status", { enum: SUBSCRIPTION_STATUSES })`): `"table.column"` →
 * the TypeScript union of its values. The lists live once in
 * src/db/billing-enums.ts; this keeps the generated types from copying them.
 *
 * @example
 * ```ts
 * enumColumnOverrides()["subscription_plans.interval"] // '"day" | "week" | "month" | "year"'
 * ```
 */
export function enumColumnOverrides(): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const table of Object.values(schema as Record<string, unknown>)) {
    if (!is(table, SQLiteTable)) continue;
    const { name, columns } = getTableConfig(table);
    for (const column of columns) {
      if (!column.enumValues?.length) continue;
      // An override replaces the whole type, nullability included.
      const values = column.enumValues.map((value: string) => JSON.stringify(value));
      overrides[`${name}.${column.name}`] = [...values, ...(column.notNull ? [] : ["null"])].join(" | ");
    }
  }
  return overrides;
}
