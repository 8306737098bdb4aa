import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error code the API answers with, defined once: stable UPPER_SNAKE
 * code → HTTP status and default human message.
 */
export const ERROR_CODES = {
  NOT_FOUND: { status: 404, message: "Not found." },
  INTERNAL_ERROR: { status: 500, message: "Something went wrong on our side." },
} as const satisfies Record<string, { status: ContentfulStatusCode; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
