import type { BillingInterval } from "../../db/billing-enums";
import { addInterval } from "../billing-period";

/** How long one billing period lasts: `intervalCount` × `interval`. */
export interface PeriodLength {
  interval: BillingInterval;
  intervalCount: number;
}

/**
 * Boundary `n` of the billing cycle that starts at `anchor`: the start of
 * period `n` (period 0 starts at the anchor; negative `n` counts back).
 * Always computed from the anchor, never from the previous boundary, so a
 * month clamped to a shorter month's last day comes back: monthly from
 * Jan 31 gives Feb 28 (29), Mar 31, Apr 30; yearly from Feb 29 gives Feb 28
 * three times, then Feb 29 again.
 *
 * @example
 * ```ts
 * periodBoundary("2027-01-31T10:00:00.000Z", { interval: "month", intervalCount: 1 }, 2) // 2027-03-31T10:00:00.000Z
 * ```
 */
export function periodBoundary(anchor: string, length: PeriodLength, n: number): Date {
  return addInterval(new Date(anchor), length.interval, length.intervalCount * n);
}

/**
 * The index of the last boundary at or before `at` (negative before the
 * anchor).
 *
 * @example
 * ```ts
 * boundaryIndexAtOrBefore("2027-01-31T00:00:00.000Z", monthly, new Date("2027-03-30T00:00:00.000Z")) // 1
 * ```
 */
export function boundaryIndexAtOrBefore(anchor: string, length: PeriodLength, at: Date): number {
  const start = new Date(anchor);
  // A close first guess from the calendar, then exact steps (clamping moves a boundary by a few days at most).
  const months = (at.getUTCFullYear() - start.getUTCFullYear()) * 12 + (at.getUTCMonth() - start.getUTCMonth());
  const unitMs = { day: 86_400_000, week: 7 * 86_400_000 }[length.interval as "day" | "week"];
  const units = unitMs ? (at.getTime() - start.getTime()) / unitMs : length.interval === "year" ? months / 12 : months;
  let n = Math.floor(units / length.intervalCount);
  while (periodBoundary(anchor, length, n) > at) n--;
  while (periodBoundary(anchor, length, n + 1) <= at) n++;
  return n;
}

/**
 * The end of a period that starts at `start`: the anchor boundary nearest to
 * one period after `start`, and always after `start`. For a start on the
 * anchor's grid that is simply the next boundary; a start off the grid (a
 * period computed before the anchor existed) is brought back onto it.
 *
 * @example
 * ```ts
 * periodEndAfter("2027-01-31T10:00:00.000Z", monthly, new Date("2027-02-28T10:00:00.000Z")) // 2027-03-31T10:00:00.000Z
 * ```
 */
export function periodEndAfter(anchor: string, length: PeriodLength, start: Date): Date {
  const target = addInterval(start, length.interval, length.intervalCount);
  const n = boundaryIndexAtOrBefore(anchor, length, target);
  const before = periodBoundary(anchor, length, n);
  const after = periodBoundary(anchor, length, n + 1);
  const nearest = target.getTime() - before.getTime() <= after.getTime() - target.getTime() ? before : after;
  return nearest > start ? nearest : after;
}

/**
 * The start of the period that ends at `end` (the boundary before it).
 *
 * @example
 * ```ts
 * periodStartBefore("2027-01-31T10:00:00.000Z", monthly, new Date("2027-03-31T10:00:00.000Z")) // 2027-02-28T10:00:00.000Z
 * ```
 */
export function periodStartBefore(anchor: string, length: PeriodLength, end: Date): Date {
  const n = boundaryIndexAtOrBefore(anchor, length, end);
  const boundary = periodBoundary(anchor, length, n);
  return boundary < end ? boundary : periodBoundary(anchor, length, n - 1);
}
