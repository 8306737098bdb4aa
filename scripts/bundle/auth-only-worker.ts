import { createBaseApp } from "../../src/base-app";

/**
 * The Worker without billing: exactly what src/app.ts mounts before billing.
 * Never deployed; the bundle check (scripts/check-bundle.ts) builds it to
 * measure what billing adds.
 */
export default createBaseApp();
