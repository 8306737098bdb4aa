import type { Kysely } from "kysely";
import type { DB } from "../db/generated";
import type { NewProviderCustomer, ProviderCustomerRow } from "../db/billing-rows";
import { wroteRows } from "../db/wrote-rows";

/**
 * The customer the app created for `userId` at `provider`, if any.
 *
 * @example
 * ```ts
 * const customer = await findProviderCustomer(db, user.id, "gocardless") // { customerId: "CU…", … } | undefined
 * ```
 */
export function findProviderCustomer(db: Kysely<DB>, userId: string, provider: string): Promise<ProviderCustomerRow | undefined> {
  return db.selectFrom("provider_customers").selectAll().where("userId", "=", userId).where("provider", "=", provider).executeTakeFirst();
}

/** Every provider customer of the user, by provider. */
export function listProviderCustomers(db: Kysely<DB>, userId: string): Promise<ProviderCustomerRow[]> {
  return db.selectFrom("provider_customers").selectAll().where("userId", "=", userId).orderBy("provider").execute();
}

/**
 * Records the user's customer unless one is recorded already for that
 * provider (the primary key (userId, provider) decides; the first stays).
 *
 * @returns whether the row was inserted.
 * @example
 * ```ts
 * await insertProviderCustomer(db, { userId, provider: "gocardless", customerId: "CU…", createdAt: now })
 * ```
 */
export async function insertProviderCustomer(db: Kysely<DB>, row: NewProviderCustomer): Promise<boolean> {
  const result = await db.insertInto("provider_customers").values(row).onConflict((conflict) => conflict.doNothing()).executeTakeFirst();
  return wroteRows(result);
}
