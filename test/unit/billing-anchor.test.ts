import { describe, expect, it } from "vitest";
import { boundaryIndexAtOrBefore, periodBoundary, periodEndAfter, periodStartBefore } from "../../src/billing/lifecycle/billing-anchor";

// Period n is computed from the anchor, never from the previous period's
// end, so clamped months come back to the anchor's day.

const monthly = { interval: "month", intervalCount: 1 } as const;
const yearly = { interval: "year", intervalCount: 1 } as const;
const day = (iso: string) => `${iso}T09:30:00.000Z`;
const boundaries = (anchor: string, length: typeof monthly | typeof yearly, count: number) =>
  Array.from({ length: count }, (_, n) => periodBoundary(anchor, length, n).toISOString());

describe("periodBoundary", () => {
  it("monthly from Jan 31, 13 months: clamps to each month's last day and comes back to the 31st", () => {
    expect(boundaries(day("2027-01-31"), monthly, 14)).toEqual(
      ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31", "2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29"].map(day),
    );
  });

  it("monthly from Dec 31 crosses the year and February of a leap year", () => {
    expect(boundaries(day("2027-12-31"), monthly, 4)).toEqual(["2027-12-31", "2028-01-31", "2028-02-29", "2028-03-31"].map(day));
  });

  it("yearly from Feb 29, 5 years: Feb 28 three times, then Feb 29 again", () => {
    expect(boundaries(day("2028-02-29"), yearly, 6)).toEqual(["2028-02-29", "2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29", "2033-02-28"].map(day));
  });

  it("counts back before the anchor (negative n)", () => {
    expect(periodBoundary(day("2027-03-31"), monthly, -1).toISOString()).toBe(day("2027-02-28"));
    expect(periodBoundary(day("2027-01-31"), monthly, -2).toISOString()).toBe(day("2026-11-30"));
  });

  it("days and weeks are plain arithmetic", () => {
    expect(periodBoundary(day("2027-01-31"), { interval: "day", intervalCount: 30 }, 2).toISOString()).toBe(day("2027-04-01"));
    expect(periodBoundary(day("2027-12-27"), { interval: "week", intervalCount: 2 }, 1).toISOString()).toBe(day("2028-01-10"));
  });
});

describe("periods on the anchor", () => {
  const anchor = day("2027-01-31");

  it("the period after one ends on the next boundary: Feb 28 → Mar 31 → Apr 30", () => {
    expect(periodEndAfter(anchor, monthly, new Date(anchor)).toISOString()).toBe(day("2027-02-28"));
    expect(periodEndAfter(anchor, monthly, new Date(day("2027-02-28"))).toISOString()).toBe(day("2027-03-31"));
    expect(periodEndAfter(anchor, monthly, new Date(day("2027-03-31"))).toISOString()).toBe(day("2027-04-30"));
  });

  it("a drifted start (stored before the anchor existed) comes back onto the anchor, never shorter than nearly a period", () => {
    // Mar 28 + 1 month = Apr 28; the nearest boundary is Apr 30.
    expect(periodEndAfter(anchor, monthly, new Date(day("2027-03-28"))).toISOString()).toBe(day("2027-04-30"));
  });

  it("the period before one ends: Mar 31 ← Feb 28 ← Jan 31", () => {
    expect(periodStartBefore(anchor, monthly, new Date(day("2027-03-31"))).toISOString()).toBe(day("2027-02-28"));
    expect(periodStartBefore(anchor, monthly, new Date(anchor)).toISOString()).toBe(day("2026-12-31"));
  });

  it("boundaryIndexAtOrBefore finds n exactly at and between boundaries, also far out", () => {
    expect(boundaryIndexAtOrBefore(anchor, monthly, new Date(day("2027-02-28")))).toBe(1);
    expect(boundaryIndexAtOrBefore(anchor, monthly, new Date("2027-02-28T09:29:59.999Z"))).toBe(0);
    expect(boundaryIndexAtOrBefore(anchor, monthly, new Date(day("2037-01-31")))).toBe(120);
    expect(boundaryIndexAtOrBefore(anchor, monthly, new Date(day("2026-12-31")))).toBe(-1);
    expect(boundaryIndexAtOrBefore(anchor, monthly, new Date(day("2026-12-30")))).toBe(-2);
  });
});
