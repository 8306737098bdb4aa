import type { Migration } from "kysely/migration";
import { d1Migrations } from "./d1-migrations";
import * as m20261124120000_better_auth from "./20261124120000_better_auth";
import * as m20261124130000_billing_tables from "./20261124130000_billing_tables";
import * as m20261124140000_billing_webhook_events from "./20261124140000_billing_webhook_events";
import * as m20261201100000_hot_query_indexes from "./20261201100000_hot_query_indexes";
import * as m20261201110000_billing_cycle_anchor from "./20261201110000_billing_cycle_anchor";
import * as m20261201120000_direct_debit_token_reuse_and_pages from "./20261201120000_direct_debit_token_reuse_and_pages";
import * as m20261202100000_payment_attempt_periods from "./20261202100000_payment_attempt_periods";
import * as m20261202110000_provider_customers from "./20261202110000_provider_customers";
import * as m20261202120000_payment_attempt_numbers from "./20261202120000_payment_attempt_numbers";
import * as m20261203100000_payment_attempt_reversals from "./20261203100000_payment_attempt_reversals";
import * as m20261203110000_payment_attempt_provider_cancel from "./20261203110000_payment_attempt_provider_cancel";
import * as m20261204100000_payment_attempt_money_event_at from "./20261204100000_payment_attempt_money_event_at";
import * as m20261204110000_payment_attempt_reversed_index from "./20261204110000_payment_attempt_reversed_index";
import * as m20261205100000_payment_attempt_first_tried_at from "./20261205100000_payment_attempt_first_tried_at";
import * as m20261206120000_user_delete_keeps_set_aside_payments from "./20261206120000_user_delete_keeps_set_aside_payments";
import * as m20261207100000_direct_debit_token_mandate_event_at from "./20261207100000_direct_debit_token_mandate_event_at";

/**
 * Every migration, by name, in one static list: no filesystem reads, so the
 * same registry runs in Node scripts and inside workerd.
 *
 * Names start with a fixed-width UTC timestamp because Kysely runs them in
 * string order. `pnpm kysely:migrate make <name>` appends here. SQL-file
 * migrations (migrations/d1/, wrangler.toml's migrations_dir) come embedded by
 * `pnpm migrations:d1` and run in the same order by name.
 */
export const migrations: Record<string, Migration> = {
  ...d1Migrations,
  "20261124120000_better_auth": m20261124120000_better_auth,
  "20261124130000_billing_tables": m20261124130000_billing_tables,
  "20261124140000_billing_webhook_events": m20261124140000_billing_webhook_events,
  "20261201100000_hot_query_indexes": m20261201100000_hot_query_indexes,
  "20261201110000_billing_cycle_anchor": m20261201110000_billing_cycle_anchor,
  "20261201120000_direct_debit_token_reuse_and_pages": m20261201120000_direct_debit_token_reuse_and_pages,
  "20261202100000_payment_attempt_periods": m20261202100000_payment_attempt_periods,
  "20261202110000_provider_customers": m20261202110000_provider_customers,
  "20261202120000_payment_attempt_numbers": m20261202120000_payment_attempt_numbers,
  "20261203100000_payment_attempt_reversals": m20261203100000_payment_attempt_reversals,
  "20261203110000_payment_attempt_provider_cancel": m20261203110000_payment_attempt_provider_cancel,
  "20261204100000_payment_attempt_money_event_at": m20261204100000_payment_attempt_money_event_at,
  "20261204110000_payment_attempt_reversed_index": m20261204110000_payment_attempt_reversed_index,
  "20261205100000_payment_attempt_first_tried_at": m20261205100000_payment_attempt_first_tried_at,
  "20261206120000_user_delete_keeps_set_aside_payments": m20261206120000_user_delete_keeps_set_aside_payments,
  "20261207100000_direct_debit_token_mandate_event_at": m20261207100000_direct_debit_token_mandate_event_at,
};
