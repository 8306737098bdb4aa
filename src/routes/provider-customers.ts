import { Hono } from "hono";
import * as z from "zod";
import { createGoCardlessClient } from "../billing/gocardless/gocardless-client";
import { findProviderCustomer, insertProviderCustomer, listProviderCustomers } from "../billing/provider-customers.repository";
import type { ProviderCustomerRow } from "../db/billing-rows";
import { getDb } from "../db/get-db";
import { readJsonBody } from "../http/read-json-body";
import { requireSession } from "../http/require-session";
import type { SessionEnv } from "../http/session-env";

/**
 * A person's name part: 1–100 characters, no control characters and no lone
 * UTF-16 surrogate (no text at all: it cannot be sent to GoCardless as UTF-8);
 * a blank one is said to be blank.
 */
const namePart = z
  .string()
  .trim()
  .min(1, "must not be blank")
  .max(100)
  .regex(/^[^\p{Cc}\p{Cs}]*$/u, "must not contain control characters or unpaired surrogates");

/**
 * `POST /provider-customers` body: the payer's name as GoCardless records it
 * on the customer (its API wants `given_name` and `family_name`); the e-mail
 * is the signed-in user's.
 */
export const createCustomerBody = z.strictObject({ provider: z.literal("gocardless"), givenName: namePart, familyName: namePart });

const customerView = (row: ProviderCustomerRow) => ({ provider: row.provider, customerId: row.customerId, createdAt: row.createdAt });

/**
 * `/api/billing/provider-customers`: the customer the app creates for the
 * user at GoCardless. Set the user's mandate up for this customer (e.g. a
 * GoCardless Billing Request with `links.customer`); a mandate of any other
 * customer is refused when stored and before every charge.
 *
 * `POST` is idempotent per user: the first call creates the customer
 * (`POST /customers`, Idempotency-Key `customer-<user id>`) and answers 201;
 * later calls answer 200 with the same customer and send nothing.
 */
export const providerCustomerRoutes = new Hono<SessionEnv>();

providerCustomerRoutes.post("/", requireSession, async (c) => {
  const body = await readJsonBody(c, createCustomerBody);
  const user = c.get("user");
  const db = getDb(c.env.DB);
  const existing = await findProviderCustomer(db, user.id, body.provider);
  if (existing) return c.json({ customer: customerView(existing) }, 200);

  const client = createGoCardlessClient({ accessToken: c.env.GOCARDLESS_ACCESS_TOKEN, baseUrl: c.env.GOCARDLESS_API_URL });
  const customer = await client.createCustomer({ userId: user.id, email: user.email, givenName: body.givenName, familyName: body.familyName });
  // Two calls at once get the same customer from GoCardless (one Idempotency-Key); the first insert wins.
  const inserted = await insertProviderCustomer(db, { userId: user.id, provider: body.provider, customerId: customer.id, createdAt: new Date().toISOString() });
  const stored = (await findProviderCustomer(db, user.id, body.provider))!;
  return c.json({ customer: customerView(stored) }, inserted ? 201 : 200);
});

providerCustomerRoutes.get("/", requireSession, async (c) => {
  const rows = await listProviderCustomers(getDb(c.env.DB), c.get("user").id);
  return c.json({ customers: rows.map(customerView) });
});
