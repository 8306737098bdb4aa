import { BillingError } from "../billing-error";

/**
 * Thrown by {@link decide} for an event that cannot happen to a
 * subscription in its state (code INVALID_TRANSITION). Domain-only: it knows
 * no HTTP status; the HTTP layer's `onError` maps its code.
 *
 * @example
 * ```ts
 * try { decide(state, plan, { type: "resume" }, now) } catch (error) { if (error instanceof LifecycleError) ... }
 * ```
 */
export class LifecycleError extends BillingError {
  declare readonly details: { status: string; event: string };

  constructor(code: "INVALID_TRANSITION", message: string, details: { status: string; event: string }) {
    super(code, { message, details });
    this.name = "LifecycleError";
  }
}
