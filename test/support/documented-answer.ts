import { expect } from "vitest";
import { BILLING_OPERATIONS, type BillingOperation } from "../../src/openapi/billing-operations";
import { RESPONSE_BODIES } from "../../src/openapi/response-schemas";

/** The billing operation of the OpenAPI document that serves `method path` (a concrete path such as `/api/billing/plans/pro`). */
export function documentedOperation(method: string, path: string): BillingOperation | undefined {
  return BILLING_OPERATIONS.find(
    (operation) =>
      operation.method.toUpperCase() === method.toUpperCase()
      && new RegExp(`^/api/billing${operation.path.replace(/:\w+/g, "[^/]+")}$`).test(path),
  );
}

/**
 * Asserts that a billing answer is the success the OpenAPI document promises
 * for its route: its status, and a body its response schema accepts (strict:
 * an undocumented field fails too).
 *
 * @example
 * ```ts
 * expectDocumentedSuccess("GET", "/api/billing/plans", response.status, response.text)
 * ```
 */
export function expectDocumentedSuccess(method: string, path: string, status: number, body: string): void {
  const operation = documentedOperation(method, path);
  expect(operation, `${method} ${path} is not in the OpenAPI document`).toBeDefined();
  expect([operation!.success.status, operation!.alsoSuccess?.status], `${method} ${path}: ${body}`).toContain(status);
  const parsed = RESPONSE_BODIES[operation!.success.body].safeParse(JSON.parse(body));
  expect(parsed.error?.issues ?? [], `${method} ${path}: ${body}`).toEqual([]);
}
