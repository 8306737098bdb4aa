import { describe, expect, it } from "vitest";
import { mandateEvent, type MandateSays } from "../../src/billing/lifecycle/mandate-events";
import type { DirectDebitTokenStatus } from "../../src/db/billing-enums";

// mandateEvent (src/billing/lifecycle/mandate-events.ts): which mandate event a stored token
// takes, whatever order the provider's events arrive in (docs/gocardless.md, "Mandates out of order").

const EARLIER = "2027-01-12T08:59:00.000Z";
const LATER = "2027-01-12T09:00:00.000Z";
const TOKEN_STATUSES: DirectDebitTokenStatus[] = ["pending", "active", "failed", "expired", "revoked"];
const SAYS: MandateSays[] = ["active", "revoked", "failed", "expired"];

describe("mandateEvent, cell by cell", () => {
  // [token status, event says, newest recorded before the event (none / older / same / newer), result: "-" nothing, else the status taken]
  const cells: [DirectDebitTokenStatus, MandateSays, "none" | "older" | "same" | "newer", "-" | MandateSays][] = TOKEN_STATUSES.flatMap((status) =>
    SAYS.flatMap((says) =>
      (["none", "older", "same", "newer"] as const).map((recorded): [DirectDebitTokenStatus, MandateSays, typeof recorded, "-" | MandateSays] => [
        status,
        says,
        recorded,
        // Revoked stays revoked; an event older than the newest recorded is overtaken, except a cancel (final).
        status === "revoked" || (recorded === "newer" && says !== "revoked") ? "-" : says,
      ]),
    ),
  );
  const recordedAt = { none: null, older: EARLIER, same: LATER, newer: "2027-01-12T09:01:00.000Z" };

  it.each(cells)("a %s token, an event saying %s, the newest recorded %s: %s", (status, says, recorded, expected) => {
    const result = mandateEvent({ status, mandateEventAt: recordedAt[recorded] }, says, LATER);
    // A cancel older than the newest recorded revokes the token with its own time (nothing applies after it).
    expect(result).toEqual(expected === "-" ? null : { status: expected, mandateEventAt: LATER });
  });
});

describe("every arrival order ends as the order they happened in does", () => {
  /** Applies events (what each says, when it happened) in arrival order to a token stored `from`. */
  function arrive(from: DirectDebitTokenStatus, events: [MandateSays, string][]): DirectDebitTokenStatus {
    let token = { status: from, mandateEventAt: null as string | null };
    for (const [says, at] of events) token = mandateEvent(token, says, at) ?? token;
    return token.status;
  }
  function orders<T>(items: T[]): T[][] {
    return items.length <= 1 ? [items] : items.flatMap((item, i) => orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
  }
  const at = (minute: number) => `2027-01-12T09:0${minute}:00.000Z`;

  it.each<[string, MandateSays[]]>([
    ["active, expired, reinstated (active)", ["active", "expired", "active"]],
    ["active, reinstated, expired", ["active", "active", "expired"]],
    ["active, failed, active, blocked", ["active", "failed", "active", "failed"]],
    ["active, expired, reinstated, cancelled", ["active", "expired", "active", "revoked"]],
    // A cancel is final: in any order the token ends revoked, as when it arrives in order.
    ["active, cancelled, reinstated (active)", ["active", "revoked", "active"]],
  ])("%s", (_name, happened) => {
    const events = happened.map((says, i): [MandateSays, string] => [says, at(i + 1)]);
    const inOrder = arrive("pending", events);
    for (const order of orders(events)) expect(arrive("pending", order)).toBe(inOrder);
    expect(inOrder).toBe(happened.includes("revoked") ? "revoked" : happened.at(-1));
  });
});
