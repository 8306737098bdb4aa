import { sql, type Kysely } from "kysely";
import type { DB } from "../db/generated";
import type { DirectDebitTokenRow, NewDirectDebitToken } from "../db/billing-rows";
import type { Compilable } from "./d1-batch";
import { newestFirst, type KeysetPage } from "./keyset-cursor";
import { cancelAtProvider } from "./subscription-lifecycle.repository";

/** The columns a token may be shown with: never the ciphertext, key id or fingerprint. */
export const MASKED_TOKEN_COLUMNS = [
  "id",
  "provider",
  "mandateReference",
  "accountLast4",
  "bankName",
  "status",
  "isDefault",
  "createdAt",
  "updatedAt",
  "revokedAt",
] as const satisfies readonly (keyof DirectDebitTokenRow)[];

export type MaskedTokenRow = Pick<DirectDebitTokenRow, (typeof MASKED_TOKEN_COLUMNS)[number]>;

/**
 * The insert of an (already encrypted) token, for one D1 batch with
 * {@link defaultIfNoneQuery}: it writes nothing when the same mandate is
 * stored already and not revoked (the partial unique (provider, tokenFingerprint) index decides).
 *
 * @example
 * ```ts
 * const [inserted] = await runBatch(env.DB, [insertTokenQuery(db, row), defaultIfNoneQuery(db, row.userId, row.id)])
 * if (!inserted?.meta.changes) throw new ApiError("TOKEN_EXISTS")
 * ```
 */
export function insertTokenQuery(db: Kysely<DB>, row: NewDirectDebitToken) {
  return db
    .insertInto("direct_debit_tokens")
    .values(row)
    .onConflict((conflict) => conflict.doNothing());
}

/**
 * Makes an active token its user's default when the user has no active default:
 * the first active mandate, so the user can pay at once (a token stored active,
 * or made active by its provider's event). Changes nothing otherwise.
 *
 * @example
 * ```ts
 * await runBatch(env.DB, [activate, defaultIfNoneQuery(db, token.userId, token.id)])
 * ```
 */
export function defaultIfNoneQuery(db: Kysely<DB>, userId: string, tokenId: string) {
  return db
    .updateTable("direct_debit_tokens")
    .set({ isDefault: 1 })
    .where("id", "=", tokenId)
    .where("status", "=", "active")
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("direct_debit_tokens as other")
            .select("other.id")
            .where("other.userId", "=", userId)
            .where("other.isDefault", "=", 1)
            .where("other.status", "=", "active"),
        ),
      ),
    );
}

/**
 * One page of the user's tokens, masked, newest first, after `after` (keyset
 * pagination on (createdAt, id), served by direct_debit_tokens_userId_createdAt_id_idx).
 *
 * @example
 * ```ts
 * const tokens = await listTokens(db, user.id, { after: decodeCursor(cursor), limit: 21 })
 * ```
 */
export function listTokens(db: Kysely<DB>, userId: string, page: KeysetPage): Promise<MaskedTokenRow[]> {
  return newestFirst(db.selectFrom("direct_debit_tokens").select(MASKED_TOKEN_COLUMNS).where("userId", "=", userId), page).execute();
}

/** One of the user's tokens, masked; another user's id finds nothing. */
export function findToken(db: Kysely<DB>, userId: string, id: string): Promise<MaskedTokenRow | undefined> {
  return db
    .selectFrom("direct_debit_tokens")
    .select(MASKED_TOKEN_COLUMNS)
    .where("userId", "=", userId)
    .where("id", "=", id)
    .executeTakeFirst();
}

/** The user's active default token (at most one: a partial unique index). */
export function findDefaultToken(db: Kysely<DB>, userId: string): Promise<MaskedTokenRow | undefined> {
  return db
    .selectFrom("direct_debit_tokens")
    .select(MASKED_TOKEN_COLUMNS)
    .where("userId", "=", userId)
    .where("isDefault", "=", 1)
    .where("status", "=", "active")
    .executeTakeFirst();
}

/**
 * The two writes of "make this token my default", for one D1 batch: clear the
 * old default, set the new one. Both carry the condition "the new token is
 * mine and active", so if it was revoked meanwhile neither does anything and
 * the old default stays.
 *
 * @example
 * ```ts
 * const [, set] = await runBatch(env.DB, setDefaultTokenQueries(db, user.id, id, now))
 * ```
 */
export function setDefaultTokenQueries(db: Kysely<DB>, userId: string, tokenId: string, now: string): [Compilable, Compilable] {
  const targetIsActive = db
    .selectFrom("direct_debit_tokens as target")
    .select("target.id")
    .where("target.id", "=", tokenId)
    .where("target.userId", "=", userId)
    .where("target.status", "=", "active");
  return [
    db
      .updateTable("direct_debit_tokens")
      .set({ isDefault: 0, updatedAt: now })
      .where("userId", "=", userId)
      .where("isDefault", "=", 1)
      .where("id", "!=", tokenId)
      .where(({ exists }) => exists(targetIsActive)),
    db
      .updateTable("direct_debit_tokens")
      .set({ isDefault: 1, updatedAt: now })
      .where("userId", "=", userId)
      .where("id", "=", tokenId)
      .where("status", "=", "active"),
  ];
}

/**
 * Revokes one of the user's tokens, for one D1 batch: status `revoked`,
 * `revokedAt`, no longer default (revoking a revoked token changes nothing);
 * and its payments never submitted (`pending`, no payment id) are released:
 * `canceled` with `failureCode = 'token_revoked'` — not a failure, so a new
 * payment on another token can start at once instead of waiting out
 * `submissionGiveUpDays`. One a run already tried to send (its answer perhaps
 * lost) gets `providerCancel` due, so the engine looks it up and cancels it at
 * GoCardless (docs/gocardless.md).
 *
 * @example
 * ```ts
 * await runBatch(env.DB, revokeTokenQueries(db, user.id, id, new Date().toISOString()))
 * ```
 */
export function revokeTokenQueries(db: Kysely<DB>, userId: string, id: string, now: string): [Compilable, Compilable] {
  return [
    db
      .updateTable("direct_debit_tokens")
      .set({ status: "revoked", revokedAt: now, isDefault: 0, updatedAt: now })
      .where("userId", "=", userId)
      .where("id", "=", id)
      .where("status", "!=", "revoked"),
    releaseUnsentQuery(db, userId, id, now),
  ];
}

/**
 * The release of a token's payments never submitted (`pending`, no payment id), for the batch that
 * ends the token (its owner's revoke; a mandate cancelled, failed or expired at the provider):
 * `canceled` with `failureCode = 'token_revoked'`, never a failure; `providerCancel` due when a send
 * may have reached the provider. Evaluated inside that batch, so an attempt inserted before it is
 * released and one inserted after it meets a token no longer active (the engine releases it unsent).
 *
 * @example
 * ```ts
 * await runBatch(env.DB, [endToken, releaseUnsentQuery(db, token.userId, token.id, now)])
 * ```
 */
export function releaseUnsentQuery(db: Kysely<DB>, userId: string, tokenId: string, now: string) {
  return db
    .updateTable("payment_attempts")
    .set({ status: "canceled", failureCode: "token_revoked", failureMessage: null, providerCancel: cancelAtProvider, updatedAt: now })
    .where("userId", "=", userId)
    .where("directDebitTokenId", "=", tokenId)
    .where("status", "=", "pending")
    .where("providerPaymentId", "is", null);
}

/**
 * The live (not revoked) tokens with these mandate fingerprints, for
 * webhooks (any user), in one query whatever their number (the fingerprints
 * travel as one JSON array parameter, `json_each`). Live only: a revoked
 * token never changes again, and the same mandate may be stored again after
 * its owner revoked it (the live copy is the one meant).
 *
 * @example
 * ```ts
 * const tokens = await findTokensByFingerprints(db, "gocardless", [fingerprint])
 * ```
 */
export function findTokensByFingerprints(
  db: Kysely<DB>,
  provider: string,
  fingerprints: readonly string[],
): Promise<Pick<DirectDebitTokenRow, "id" | "userId" | "status" | "tokenFingerprint" | "mandateEventAt">[]> {
  if (fingerprints.length === 0) return Promise.resolve([]);
  return db
    .selectFrom("direct_debit_tokens")
    .select(["id", "userId", "status", "tokenFingerprint", "mandateEventAt"])
    .where("provider", "=", provider)
    .where(sql<boolean>`"tokenFingerprint" in (select value from json_each(${JSON.stringify(fingerprints)}))`)
    .where("status", "<>", "revoked")
    .execute();
}
