import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import { findTokenByFingerprint } from "../direct-debit-tokens.repository";
import { findAttemptForEvent, type AttemptForEvent } from "../payment-attempts.repository";
import { fingerprintToken } from "../token-fingerprint";
import type { PaymentEvent } from "./billing-event";

/** The stored token a mandate event is about. */
export interface TokenForEvent {
  id: string;
  userId: string;
  status: "pending" | "active" | "revoked" | "failed" | "expired";
}

/**
 * Where applying an event reads the rows it is about: one row at a time
 * ({@link readEventRows}), or from rows a whole delivery loaded in bulk
 * (applyBillingDelivery).
 */
export interface EventRows {
  attempt(event: PaymentEvent): Promise<AttemptForEvent | undefined>;
  token(mandateId: string): Promise<TokenForEvent | undefined>;
}

/**
 * Reads each row with its own query.
 *
 * @example
 * ```ts
 * const rows = readEventRows(db, "gocardless", () => loadFingerprintKey(env.TOKEN_FINGERPRINT_KEY))
 * const attempt = await rows.attempt(event)
 * ```
 */
export function readEventRows(db: Kysely<DB>, provider: string, fingerprintKey: () => Promise<CryptoKey>): EventRows {
  return {
    attempt: (event) => findAttemptForEvent(db, provider, event),
    token: async (mandateId) => findTokenByFingerprint(db, provider, await fingerprintToken(await fingerprintKey(), provider, mandateId)),
  };
}
