import { sql, type Kysely } from "kysely";

/**
 * Direct-debit tokens: a revoked token no longer holds its mandate. The
 * unique (provider, tokenFingerprint) index now covers only tokens that are
 * not revoked, so the owner can store a mandate again after revoking it
 * (before, the revoked row answered TOKEN_EXISTS forever, to anyone).
 *
 * `GET /direct-debit-tokens` pages newest first on (createdAt, id): the
 * (userId, createdAt, id) index it reads in order came with
 * 20261201100000_hot_query_indexes, so only the fingerprint index changes here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("direct_debit_tokens_tokenFingerprint_unique").execute();
  // The same live mandate cannot be stored twice; also finds the token a provider
  // reports on (webhooks never change a revoked token, so they look up live ones only).
  await db.schema
    .createIndex("direct_debit_tokens_tokenFingerprint_live_unique")
    .unique()
    .on("direct_debit_tokens")
    .columns(["provider", "tokenFingerprint"])
    .where(sql<boolean>`"status" <> 'revoked'`)
    .execute();
}

/**
 * Back to one row per mandate. Fails (the unique index cannot be created)
 * while a mandate is stored both revoked and live: delete the revoked row
 * first; no row is ever deleted here.
 */
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("direct_debit_tokens_tokenFingerprint_live_unique").execute();
  await db.schema
    .createIndex("direct_debit_tokens_tokenFingerprint_unique")
    .unique()
    .on("direct_debit_tokens")
    .columns(["provider", "tokenFingerprint"])
    .execute();
}
