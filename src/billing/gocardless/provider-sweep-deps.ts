import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import type { TokenKeyring } from "../token-cipher";
import type { PaymentEvent } from "../webhooks/billing-event";

/**
 * What each of the engine's GoCardless sweeps (submitting attempts,
 * cancelling set-aside payments) takes from its run: the database, the
 * client, the token keys, the run's time, its chunk and its deadline.
 */
export interface ProviderSweepDeps<Client> {
  db: Kysely<DB>;
  client: Client;
  keyring: TokenKeyring;
  now: Date;
  limit: number;
  /** True once the run must not start another provider call (its deadline). */
  outOfTime?: () => boolean;
  /** Applies what a payment's status says happened (its webhook events may have named no attempt); never rejects. */
  applyEvent?: (event: PaymentEvent) => Promise<unknown>;
}
