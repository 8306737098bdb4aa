/**
 * An error answer of GoCardless's API (or no answer at all), with what to
 * record on the attempt: `code` (GoCardless's first `errors[].reason`, else its
 * `type`) and `message`.
 *
 * GoCardless's error body: `{"error": {"message", "type", "code": <HTTP
 * status>, "request_id", "documentation_url", "errors": [{"reason",
 * "message", "field"?, "links"?}]}}`.
 *
 * @example
 * ```ts
 * if (error instanceof GoCardlessApiError) await recordFailure(attempt, error.code, error.message)
 * ```
 */
export class GoCardlessApiError extends Error {
  /** The HTTP status (0 when no answer arrived). */
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  /** The `links` of the first error, e.g. `conflicting_resource_id`. */
  readonly links: Record<string, string>;

  constructor(init: { status: number; code: string; message: string; requestId?: string; links?: Record<string, string>; cause?: unknown }) {
    super(init.message, { cause: init.cause });
    this.name = "GoCardlessApiError";
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.links = init.links ?? {};
  }

  /** Reads GoCardless's error body from a non-2xx response (any body: a proxy's HTML page too). */
  static async fromResponse(response: Response): Promise<GoCardlessApiError> {
    const text = await response.text();
    let error: { message?: unknown; type?: unknown; request_id?: unknown; errors?: unknown } | undefined;
    try {
      const parsed = JSON.parse(text) as { error?: typeof error };
      error = typeof parsed?.error === "object" && parsed.error !== null ? parsed.error : undefined;
    } catch {
      error = undefined;
    }
    const first = Array.isArray(error?.errors) ? (error.errors[0] as { reason?: unknown; message?: unknown; links?: unknown } | undefined) : undefined;
    const code = stringOr(first?.reason, stringOr(error?.type, `http_${response.status}`));
    const errors = Array.isArray(error?.errors) ? (error.errors as { field?: unknown; message?: unknown }[]) : [];
    // A validation error says which fields in `errors`; its `message` alone is just "Validation failed".
    const fields = errors.flatMap((e) => (typeof e.field === "string" && typeof e.message === "string" ? [`${e.field} ${e.message}`] : []));
    const summary = stringOr(error?.message, stringOr(first?.message, `GoCardless answered ${response.status} ${response.statusText}`.trim()));
    const message = fields.length > 0 ? `${summary}: ${fields.join("; ")}` : summary;
    const links = typeof first?.links === "object" && first.links !== null ? (first.links as Record<string, string>) : {};
    return new GoCardlessApiError({ status: response.status, code, message, requestId: stringOr(error?.request_id, "") || undefined, links });
  }
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value.length > 0 ? value : fallback;
}
