/**
 * The billing tables' Kysely row types over the generated `DB`: `…Row` as
 * read, `New…` as inserted, `…Update` as patched.
 *
 * @example
 * ```ts
 * const plan: SubscriptionPlanRow = await db.selectFrom("subscription_plans").selectAll().executeTakeFirstOrThrow()
 * ```
 */
import type { Insertable, Selectable, Updateable } from "kysely";
import type { DB } from "./generated";

/** A plan of the catalog, as read. */
export type SubscriptionPlanRow = Selectable<DB["subscription_plans"]>;
export type NewSubscriptionPlan = Insertable<DB["subscription_plans"]>;
export type SubscriptionPlanUpdate = Updateable<DB["subscription_plans"]>;

/** One user's subscription to one plan, as read. */
export type UserSubscriptionRow = Selectable<DB["user_subscriptions"]>;
export type NewUserSubscription = Insertable<DB["user_subscriptions"]>;
export type UserSubscriptionUpdate = Updateable<DB["user_subscriptions"]>;

/** One try at collecting one payment, as read. */
export type PaymentAttemptRow = Selectable<DB["payment_attempts"]>;
export type NewPaymentAttempt = Insertable<DB["payment_attempts"]>;
export type PaymentAttemptUpdate = Updateable<DB["payment_attempts"]>;

/** A user's direct-debit mandate (token encrypted), as read. */
export type DirectDebitTokenRow = Selectable<DB["direct_debit_tokens"]>;
export type NewDirectDebitToken = Insertable<DB["direct_debit_tokens"]>;
export type DirectDebitTokenUpdate = Updateable<DB["direct_debit_tokens"]>;

/** A processed provider webhook event, as read. */
export type BillingWebhookEventRow = Selectable<DB["billing_webhook_events"]>;
export type NewBillingWebhookEvent = Insertable<DB["billing_webhook_events"]>;

/** The customer the app created for a user at a provider, as read. */
export type ProviderCustomerRow = Selectable<DB["provider_customers"]>;
export type NewProviderCustomer = Insertable<DB["provider_customers"]>;
