/** The stable codes the lifecycle refuses with (the HTTP layer maps them to statuses). */
export type LifecycleErrorCode = "INVALID_TRANSITION";

/**
 * Thrown by {@link decide} for an event that cannot happen to a
 * subscription in its state. Domain-only: it knows no HTTP status; routes
 * map it (toApiError) at their edge.
 *
 * @example
 * ```ts
 * try { decide(state, plan, { type: "resume" }, now) } catch (error) { if (error instanceof LifecycleError) ... }
 * ```
 */
export class LifecycleError extends Error {
  readonly code: LifecycleErrorCode;
  readonly details: { status: string; event: string };

  constructor(code: LifecycleErrorCode, message: string, details: { status: string; event: string }) {
    super(message);
    this.name = "LifecycleError";
    this.code = code;
    this.details = details;
  }
}
