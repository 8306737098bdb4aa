import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGoCardlessClient } from "../../src/billing/gocardless/gocardless-client";
import { billingSimulate, USAGE } from "../../scripts/commands/billing-simulate";
import { setUpStandInMandate, startGoCardlessStandIn } from "../../scripts/lib/gocardless-stand-in";
import { runInProcess, runScript } from "./run-script";

// `pnpm billing:simulate`: GoCardless-signed deliveries to a Worker, and the
// loopback stand-in of GoCardless's API that `pnpm dev` uses without a token.

describe("billing:simulate <event> <id>", () => {
  let dir = "";
  let url = "";
  const received: { headers: IncomingMessage["headers"]; body: string }[] = [];
  const worker = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body });
      response.writeHead(200, { "content-type": "application/json" }).end('{"received":1,"results":[]}');
    });
  });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "billing-simulate-"));
    await writeFile(path.join(dir, ".dev.vars"), "BETTER_AUTH_SECRET=x\nWEBHOOK_SECRET_GOCARDLESS=local-secret-1, older-secret\n");
    await new Promise<void>((resolve) => worker.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(worker.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => worker.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("POSTs one GoCardless-format event, signed as GoCardless signs (hex HMAC-SHA256 of the raw body) with the first local secret", async () => {
    const run = await runScript("scripts/billing-simulate.ts", ["payments.confirmed", "PM0001", "--attempt", "attempt-1", "--url", url], { cwd: dir });

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^payments\.confirmed PM0001 \(event EV[0-9A-F]{12}\) → 200 /);
    const [delivery] = received.splice(0);
    expect(delivery!.headers["webhook-signature"]).toBe(createHmac("sha256", "local-secret-1").update(delivery!.body).digest("hex"));
    expect(JSON.parse(delivery!.body)).toEqual({
      events: [
        {
          id: expect.stringMatching(/^EV[0-9A-F]{12}$/),
          created_at: expect.any(String),
          resource_type: "payments",
          action: "confirmed",
          links: { payment: "PM0001" },
          details: { origin: "gocardless", cause: "payment_confirmed", description: expect.any(String) },
          resource_metadata: { payment_attempt_id: "attempt-1" },
        },
      ],
    });
  });

  it.each([
    [["payments.nope", "PM1"], /^error: unknown event 'payments\.nope'; one of: payments\.submitted, /],
    [["constructor.x", "PM1"], /^error: unknown event 'constructor\.x'/],
    [["payments.confirmed"], /^error: give one event type and one id/],
    [["mandates.active", "MD1", "--attempt", "a"], /^error: --attempt is for payments events only/],
    [["mandates.active", "MD1", "--new-mandate", "MD2"], /^error: --new-mandate is for mandates\.replaced --webhook-only/],
    [["mandates.replaced", "MD1", "--new-mandate", "MD2"], /^error: --new-mandate is for mandates\.replaced --webhook-only/],
    [["payments.confirmed", "PM1", "--dev-vars", "missing.vars"], /^error: cannot read missing\.vars; run `pnpm dev` once/],
    [["payments.confirmed", "PM1", "--bogus"], /^error: Unknown option '--bogus'/],
  ])("%j: one line saying what is wrong, exit 2, nothing sent", async (args, message) => {
    const run = await runInProcess(billingSimulate, [...args, "--url", url], USAGE);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(received).toHaveLength(0);
  });

  describe("with pnpm dev's stand-in (found through .wrangler/gocardless-stand-in.url, whatever its port)", () => {
    let standIn: Awaited<ReturnType<typeof startGoCardlessStandIn>>;
    const standInLines: string[] = [];
    beforeAll(async () => {
      standIn = await startGoCardlessStandIn({ port: 0, log: (line) => standInLines.push(line) });
      await mkdir(path.join(dir, ".wrangler"), { recursive: true });
      await writeFile(path.join(dir, ".wrangler", "gocardless-stand-in.url"), `${standIn.url}\n`);
    });
    afterAll(() => standIn.close());
    const newPayment = (attempt: string) =>
      createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url }).createPayment({ amountMinor: 500, currency: "EUR", chargeDate: undefined, mandateId: "MD0001", paymentAttemptId: attempt });

    it("payments.confirmed moves the stand-in's payment to confirmed before the webhook, so a cancel then answers 422 cancellation_failed as GoCardless does", async () => {
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const payment = await newPayment("attempt-confirmed");
      const run = await runInProcess(billingSimulate, ["payments.confirmed", payment.id, "--url", url], USAGE, { cwd: dir });

      expect([run.code, run.stderr]).toEqual([0, ""]);
      expect(run.stdout).toMatch(new RegExp(`^gocardless stand-in: ${payment.id} pending_submission → confirmed\n`));
      expect(received.splice(0)).toHaveLength(1);
      expect((await client.getPayment(payment.id)).status).toBe("confirmed");
      await expect(client.cancelPayment(payment.id)).rejects.toMatchObject({ status: 422, code: "cancellation_failed" });
    });

    it.each([
      ["payments.failed", "failed"],
      ["payments.charged_back", "charged_back"],
      ["payments.chargeback_cancelled", "paid_out"],
    ])("a payment confirmed at the stand-in, then %s: %s, as GoCardless reports it", async (event, status) => {
      const payment = await newPayment(`attempt-${event}`);
      await runInProcess(billingSimulate, ["payments.confirmed", payment.id, "--url", url], USAGE, { cwd: dir });
      if (event === "payments.chargeback_cancelled") await runInProcess(billingSimulate, ["payments.charged_back", payment.id, "--url", url], USAGE, { cwd: dir });
      received.splice(0);
      const run = await runInProcess(billingSimulate, [event, payment.id, "--url", url], USAGE, { cwd: dir });
      expect([run.code, run.stderr]).toEqual([0, ""]);
      expect((await createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url }).getPayment(payment.id)).status).toBe(status);
      expect(received.splice(0)).toHaveLength(1);
    });

    it("chargeback_settled keeps a charged_back payment charged_back (a chargeback cancelled after it: paid_out); after chargeback_cancelled it is refused, as only a chargeback that stands is settled (docs/gocardless.md)", async () => {
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const simulate = (event: string, paymentId: string) => runInProcess(billingSimulate, [event, paymentId, "--url", url], USAGE, { cwd: dir });
      const settledFirst = await newPayment("attempt-settled-first");
      for (const [event, status] of [["payments.confirmed", "confirmed"], ["payments.charged_back", "charged_back"], ["payments.chargeback_settled", "charged_back"], ["payments.chargeback_cancelled", "paid_out"]]) {
        expect((await simulate(event!, settledFirst.id)).code).toBe(0);
        expect((await client.getPayment(settledFirst.id)).status).toBe(status);
      }
      const cancelledFirst = await newPayment("attempt-cancelled-first");
      for (const event of ["payments.confirmed", "payments.charged_back", "payments.chargeback_cancelled"]) await simulate(event, cancelledFirst.id);
      received.splice(0);
      const refused = await simulate("payments.chargeback_settled", cancelledFirst.id);
      expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining("it is paid_out (GoCardless would not send it)")]);
      expect(received).toHaveLength(0);
    });

    it("an event GoCardless could not send in the payment's state (confirmed after cancelled): one line saying so, exit 1, no webhook; --webhook-only sends it as is", async () => {
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const payment = await newPayment("attempt-cancelled");
      await client.cancelPayment(payment.id);
      const refused = await runInProcess(billingSimulate, ["payments.confirmed", payment.id, "--url", url], USAGE, { cwd: dir });
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim()).toBe(
        `error: the GoCardless stand-in refused payments.confirmed for ${payment.id}: it is cancelled (GoCardless would not send it); nothing sent. Pass --webhook-only to send the event alone (a redelivery, or events out of order)`,
      );
      expect(received).toHaveLength(0);
      expect((await client.getPayment(payment.id)).status).toBe("cancelled");

      const alone = await runInProcess(billingSimulate, ["payments.confirmed", payment.id, "--url", url, "--webhook-only"], USAGE, { cwd: dir });
      expect(alone.code).toBe(0);
      expect(received.splice(0)).toHaveLength(1);
      expect((await client.getPayment(payment.id)).status).toBe("cancelled");
    });

    it("mandates.cancelled cancels the stand-in's mandate (and its pending_submission payment) before the webhook; a payment on it is then refused 422 mandate_is_inactive, as GoCardless refuses it", async () => {
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const customer = await client.createCustomer({ userId: "user-cancelled", email: "c@example.com", givenName: "C", familyName: "D" });
      const mandateId = await setUpStandInMandate(standIn.url, customer.id);
      const payment = { amountMinor: 500, currency: "GBP", chargeDate: undefined, mandateId, paymentAttemptId: "attempt-before-cancel" };
      const before = await client.createPayment(payment);
      received.splice(0);
      const run = await runInProcess(billingSimulate, ["mandates.cancelled", mandateId, "--url", url], USAGE, { cwd: dir });
      expect([run.code, run.stderr]).toEqual([0, ""]);
      expect(run.stdout).toMatch(new RegExp(`^gocardless stand-in: ${mandateId} pending_submission → cancelled\n`));
      expect(received.splice(0)).toHaveLength(1);
      expect((await client.getMandate(mandateId)).status).toBe("cancelled");
      expect((await client.getPayment(before.id)).status).toBe("cancelled");
      await expect(client.createPayment({ ...payment, paymentAttemptId: "attempt-after-cancel" })).rejects.toMatchObject({ status: 422, code: "mandate_is_inactive" });

      const again = await runInProcess(billingSimulate, ["mandates.cancelled", mandateId, "--url", url], USAGE, { cwd: dir });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`the GoCardless stand-in refused mandates.cancelled for ${mandateId}: it is cancelled`);
      expect(received).toHaveLength(0);
    });

    /** A customer and a mandate on it at the stand-in, as `billing:simulate mandate` makes them: `pending_submission`. */
    const newMandate = async (userId: string) => {
      const customer = await createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url }).createCustomer({ userId, email: `${userId}@example.com`, givenName: "M", familyName: "N" });
      return { customer: customer.id, mandateId: await setUpStandInMandate(standIn.url, customer.id) };
    };
    const simulate = (...args: string[]) => runInProcess(billingSimulate, [...args, "--url", url], USAGE, { cwd: dir });

    // What the token route reads (GET /mandates/:id, src/routes/direct-debit-tokens.ts) is then what the
    // event said: a mandate stored after mandates.active is active, after mandates.failed refused.
    it.each([
      // event, the events before it, the status it moves from and to, the event's details (GoCardless's event reference)
      ["mandates.active", [], "pending_submission", "active", { origin: "gocardless", cause: "mandate_activated" }],
      ["mandates.failed", [], "pending_submission", "failed", { origin: "bank", cause: "invalid_bank_details", scheme: "bacs", reason_code: "AUDDIS-5" }],
      ["mandates.blocked", [], "pending_submission", "blocked", { origin: "gocardless", cause: "mandate_blocked" }],
      ["mandates.expired", ["mandates.active"], "active", "expired", { origin: "gocardless", cause: "mandate_expired" }],
      ["mandates.consumed", ["mandates.active"], "active", "consumed", { origin: "gocardless", cause: "mandate_consumed" }],
      ["mandates.reinstated", ["mandates.cancelled"], "cancelled", "active", { origin: "gocardless", cause: "mandate_reinstated" }],
      ["mandates.cancelled", [], "pending_submission", "cancelled", { origin: "api", cause: "mandate_cancelled" }],
    ])("%s moves the stand-in's mandate before the webhook (after %j: %s → %s), as GoCardless's mandate then reads", async (event, before, from, to, details) => {
      const { mandateId } = await newMandate(`user-${event}`);
      for (const earlier of before) expect((await simulate(earlier, mandateId)).code).toBe(0);
      received.splice(0);

      const run = await simulate(event, mandateId);

      expect([run.code, run.stderr]).toEqual([0, ""]);
      expect(run.stdout).toMatch(new RegExp(`^gocardless stand-in: ${mandateId} ${from} → ${to}\n`));
      expect((await createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url }).getMandate(mandateId)).status).toBe(to);
      const [delivery] = received.splice(0);
      expect(JSON.parse(delivery!.body).events).toEqual([
        { id: expect.stringMatching(/^EV/), created_at: expect.any(String), resource_type: "mandates", action: event.slice("mandates.".length), links: { mandate: mandateId }, details: { ...details, description: expect.any(String) } },
      ]);
    });

    it.each([
      ["mandates.active", ["mandates.failed"], "failed"],
      ["mandates.failed", ["mandates.active"], "active"],
      ["mandates.reinstated", [], "pending_submission"],
      ["mandates.replaced", ["mandates.blocked"], "blocked"],
    ])("%s for a mandate GoCardless would not send it for (after %j: %s): one line saying so, exit 1, nothing sent, the mandate as it was", async (event, before, status) => {
      const { mandateId } = await newMandate(`user-refused-${event}`);
      for (const earlier of before) await simulate(earlier, mandateId);
      received.splice(0);

      const refused = await simulate(event, mandateId);

      expect(refused.code).toBe(1);
      expect(refused.stderr.trim()).toBe(
        `error: the GoCardless stand-in refused ${event} for ${mandateId}: it is ${status} (GoCardless would not send it); nothing sent. Pass --webhook-only to send the event alone (a redelivery, or events out of order)`,
      );
      expect(received).toHaveLength(0);
      expect((await createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url }).getMandate(mandateId)).status).toBe(status);
    });

    it("mandates.replaced cancels the stand-in's mandate and makes its replacement (links.new_mandate, the same customer and status); the event links both; a payment on the old one is refused 422 mandate_replaced naming the new one", async () => {
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const { customer, mandateId } = await newMandate("user-replaced");
      await simulate("mandates.active", mandateId);
      received.splice(0);

      const run = await simulate("mandates.replaced", mandateId);

      expect([run.code, run.stderr]).toEqual([0, ""]);
      const newMandateId = new RegExp(`^gocardless stand-in: ${mandateId} active → cancelled, replaced by (MD[0-9A-F]{12}) \\(active\\)\n`).exec(run.stdout)?.[1];
      expect(newMandateId).toBeDefined();
      const [delivery] = received.splice(0);
      expect(JSON.parse(delivery!.body).events[0]).toMatchObject({
        resource_type: "mandates",
        action: "replaced",
        links: { mandate: mandateId, new_mandate: newMandateId },
        details: { origin: "gocardless", cause: "scheme_identifier_changed" },
      });
      expect(await client.getMandate(mandateId)).toMatchObject({ status: "cancelled", links: { customer, new_mandate: newMandateId } });
      expect(await client.getMandate(newMandateId!)).toMatchObject({ status: "active", links: { customer } });
      const payment = { amountMinor: 500, currency: "GBP", chargeDate: undefined, paymentAttemptId: "attempt-replaced" };
      await expect(client.createPayment({ ...payment, mandateId })).rejects.toMatchObject({ status: 422, code: "mandate_replaced", links: { new_mandate: newMandateId } });
      expect(await client.createPayment({ ...payment, mandateId: newMandateId!, paymentAttemptId: "attempt-on-new" })).toMatchObject({ status: "pending_submission", links: { mandate: newMandateId } });
    });

    it("mandates.replaced --webhook-only sends the new mandate given with --new-mandate and moves nothing; without it, one line saying what to pass, exit 2, nothing sent", async () => {
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const { mandateId } = await newMandate("user-replaced-alone");
      received.splice(0);

      const missing = await simulate("mandates.replaced", mandateId, "--webhook-only");
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^error: mandates\.replaced sent alone needs the new mandate's id: pass --webhook-only --new-mandate MD…\n/);
      expect(received).toHaveLength(0);

      const alone = await simulate("mandates.replaced", mandateId, "--webhook-only", "--new-mandate", "MD0000NEW");
      expect([alone.code, alone.stderr]).toEqual([0, ""]);
      expect(JSON.parse(received.splice(0)[0]!.body).events[0].links).toEqual({ mandate: mandateId, new_mandate: "MD0000NEW" });
      expect((await client.getMandate(mandateId)).status).toBe("pending_submission");
    });

    it("mandate <CU…> finds the stand-in through the same file", async () => {
      const customer = await createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url }).createCustomer({ userId: "user-port", email: "p@example.com", givenName: "P", familyName: "Q" });
      const run = await runInProcess(billingSimulate, ["mandate", customer.id], USAGE, { cwd: dir });
      expect([run.code, run.stderr]).toEqual([0, ""]);
      expect(run.stdout.trim()).toMatch(/^MD[0-9A-F]{12}$/);
    });
  });

  it("nothing listening: one line saying to start pnpm dev, exit 1", async () => {
    const run = await runInProcess(billingSimulate, ["mandates.active", "MD1", "--url", "http://127.0.0.1:9", "--dev-vars", path.join(dir, ".dev.vars")], USAGE);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe("error: nothing answers at http://127.0.0.1:9/api/billing/webhooks/gocardless; start the Worker with `pnpm dev` (or pass --url)");
  });
});

describe("the GoCardless stand-in, through the Worker's own client", () => {
  it("creates a payment; the same Idempotency-Key again yields that payment (409 → GET), never a second", async () => {
    const lines: string[] = [];
    const standIn = await startGoCardlessStandIn({ port: 0, log: (line) => lines.push(line) });
    try {
      expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const payment = { amountMinor: 500, currency: "EUR", chargeDate: undefined, mandateId: "MD0001", paymentAttemptId: "attempt-1" };
      const first = await client.createPayment(payment);
      const again = await client.createPayment(payment);
      expect(first).toMatchObject({ status: "pending_submission", amount: 500, currency: "EUR", metadata: { payment_attempt_id: "attempt-1" }, links: { mandate: "MD0001" } });
      expect(again).toEqual(first);
      expect(lines).toEqual([
        "gocardless stand-in: POST /payments → 201",
        "gocardless stand-in: POST /payments → 409",
        `gocardless stand-in: GET /payments/${first.id} → 200`,
      ]);
      const anonymous = await fetch(`${standIn.url}/payments/${first.id}`, { headers: { "GoCardless-Version": "2015-07-06" } });
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as any).error.errors[0].reason).toBe("missing_authorization_header");
    } finally {
      await standIn.close();
    }
  });
  it("lists a mandate's payments and cancels a pending_submission payment once (again: 422 cancellation_failed), through the client the engine uses", async () => {
    const standIn = await startGoCardlessStandIn({ port: 0, log: () => {} });
    try {
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const mine = await client.createPayment({ amountMinor: 500, currency: "EUR", chargeDate: undefined, mandateId: "MD0001", paymentAttemptId: "attempt-1" });
      await client.createPayment({ amountMinor: 500, currency: "EUR", chargeDate: undefined, mandateId: "MD0002", paymentAttemptId: "attempt-2" });
      expect((await client.listPayments({ mandate: "MD0001", limit: "500" })).map((payment) => payment.id)).toEqual([mine.id]);
      expect(await client.cancelPayment(mine.id)).toMatchObject({ id: mine.id, status: "cancelled" });
      await expect(client.cancelPayment(mine.id)).rejects.toMatchObject({ status: 422, code: "cancellation_failed" });
    } finally {
      await standIn.close();
    }
  });

  it("creates a customer once per Idempotency-Key; `billing:simulate mandate <CU…>` sets a mandate up for it; GET /mandates names that customer, an unknown mandate is a 404", async () => {
    const standIn = await startGoCardlessStandIn({ port: 0, log: () => {} });
    try {
      const client = createGoCardlessClient({ accessToken: "local-stand-in", baseUrl: standIn.url });
      const newCustomer = { userId: "user-1", email: "ada@example.com", givenName: "Ada", familyName: "Lovelace" };
      const customer = await client.createCustomer(newCustomer);
      expect(customer).toMatchObject({ id: expect.stringMatching(/^CU/), email: "ada@example.com", given_name: "Ada", family_name: "Lovelace", metadata: { user_id: "user-1" } });
      expect(await client.createCustomer(newCustomer)).toEqual(customer);

      const run = await runInProcess(billingSimulate, ["mandate", customer.id, "--gocardless", standIn.url], USAGE);
      expect([run.code, run.stderr]).toEqual([0, ""]);
      const mandateId = run.stdout.trim();
      expect(mandateId).toMatch(/^MD[0-9A-F]{12}$/);
      expect((await client.getMandate(mandateId)).links.customer).toBe(customer.id);
      await expect(client.getMandate("MD0000NOSUCH")).rejects.toMatchObject({ status: 404, code: "resource_not_found" });

      const unknown = await runInProcess(billingSimulate, ["mandate", "CU0000NOSUCH", "--gocardless", standIn.url], USAGE);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr.trim()).toBe("error: the stand-in has no customer CU0000NOSUCH; create it with POST /api/billing/provider-customers first");
    } finally {
      await standIn.close();
    }
  });
});
