import { sql, type Kysely, type RawBuilder } from "kysely";

/**
 * `provider_customers`: per user and provider, the customer the app created
 * for them at the provider (GoCardless `CU…`). A mandate may only be stored
 * or charged when the provider says it belongs to this customer, so a mandate
 * id someone else stored first cannot be hijacked.
 *
 * A new table keyed by `userId`, not a column on `user`: on D1 `user` is a
 * cascading parent that a rebuild would empty. Deleting a user deletes only
 * their link here (nothing references this table, so nothing cascades on from
 * it; the money rows follow their own foreign keys, unchanged).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("provider_customers")
    .addColumn("userId", "text", (col) => col.notNull().references("user.id").onDelete("cascade"))
    .addColumn("provider", "text", (col) => col.notNull())
    .addColumn("customerId", "text", (col) => col.notNull())
    .addColumn("createdAt", "text", (col) => col.notNull())
    // One customer per user and provider: the app's creation is idempotent on it.
    .addPrimaryKeyConstraint("provider_customers_pk", ["userId", "provider"])
    .addCheckConstraint("provider_customers_provider_format", providerName("provider"))
    .addCheckConstraint("provider_customers_customerId_length", sql`length("customerId") between 1 and 255`)
    .addCheckConstraint("provider_customers_createdAt_iso8601", sql`strftime('%Y-%m-%dT%H:%M:%fZ', "createdAt") is "createdAt"`)
    .execute();
  // One provider customer is never two users': also the lookup from a customer id to its user.
  await db.schema
    .createIndex("provider_customers_customerId_unique")
    .unique()
    .on("provider_customers")
    .columns(["provider", "customerId"])
    .execute();
}

/** Drops the links (the runner refuses while it holds rows unless --force, which backs them up first). */
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("provider_customers_customerId_unique").execute();
  await db.schema.dropTable("provider_customers").execute();
}

/** A lower-case slug naming a payment provider (frozen copy of the billing tables' rule). */
function providerName(column: string): RawBuilder<unknown> {
  const ref = sql.ref(column);
  return sql`length(${ref}) between 1 and 32 and ${ref} glob '[a-z]*' and ${ref} not glob '*[^a-z0-9_-]*'`;
}
