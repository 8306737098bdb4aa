import type { BillingInterval } from "../db/billing-enums";

/**
 * The end of a billing period that starts at `start` and lasts `count` ×
 * `interval`, in UTC. Months and years clamp to the last day of a shorter
 * month (Jan 31 + 1 month = Feb 28/29), as card and direct-debit schedulers do,
 * instead of JavaScript's roll-over into the next month.
 *
 * @example
 * ```ts
 * addInterval(new Date("2026-01-31T00:00:00Z"), "month", 1) // 2026-02-28T00:00:00Z
 * ```
 */
export function addInterval(start: Date, interval: BillingInterval, count: number): Date {
  const end = new Date(start.getTime());
  switch (interval) {
    case "day":
      end.setUTCDate(end.getUTCDate() + count);
      return end;
    case "week":
      end.setUTCDate(end.getUTCDate() + 7 * count);
      return end;
    case "month":
      return addMonths(start, count);
    case "year":
      return addMonths(start, 12 * count);
  }
}

function addMonths(start: Date, months: number): Date {
  const end = new Date(start.getTime());
  end.setUTCDate(1);
  end.setUTCMonth(end.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 0)).getUTCDate();
  end.setUTCDate(Math.min(start.getUTCDate(), lastDay));
  return end;
}
