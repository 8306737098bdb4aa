import { betterAuth } from "better-auth";
import { openAPI } from "better-auth/plugins/open-api";
import { authOptions } from "../../src/auth/create-auth";
import type { Env } from "../../src/env";
import type { OpenApiPart } from "../../src/openapi/billing-document";

/** Where Better Auth is mounted (src/base-app.ts, authOptions' basePath). */
const AUTH_BASE = "/api/auth";

/**
 * Better Auth's own OpenAPI description of this Worker's auth routes, from its
 * `openAPI` plugin (`generateOpenAPISchema()`) over the same `authOptions` the
 * Worker runs, at build time: the plugin is not in the Worker, whose bundle
 * it would grow. Paths are made absolute (`/api/auth/sign-up/email`).
 *
 * @example
 * ```ts
 * const { paths } = await betterAuthOpenApiPart()
 * ```
 */
export async function betterAuthOpenApiPart(): Promise<OpenApiPart> {
  // Nothing here opens the database or signs anything: placeholders do.
  const env = { BETTER_AUTH_SECRET: "openapi-generation-only-secret-0123456789", BETTER_AUTH_URL: "http://localhost:8787", DB: {} } as unknown as Env;
  const options = authOptions(env);
  const auth = betterAuth({
    ...options,
    // No database to compare the schema with; the Worker's own auth does check it.
    advanced: { ...options.advanced, database: { ...options.advanced.database, validateSchema: false } },
    plugins: [openAPI({ disableDefaultReference: true })],
  });
  const document = (await auth.api.generateOpenAPISchema()) as unknown as {
    paths: Record<string, Record<string, unknown>>;
    components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
    tags?: { name: string; description?: string }[];
  };
  const paths = Object.fromEntries(Object.entries(document.paths).map(([path, item]) => [AUTH_BASE + path, item]));
  // TODO(better-auth): drop this once its generator leaves out what the options disable:
  // `POST /get-session` answers 405 unless `session.deferSessionRefresh` is set (it is not here).
  const getSession = paths[`${AUTH_BASE}/get-session`];
  if (getSession && !("deferSessionRefresh" in options.session)) delete getSession.post;
  // Better Auth marks every operation `bearerAuth` (its bearer plugin, which this Worker does
  // not load) and declares an `apiKeyCookie` scheme (its API-key plugin, not loaded either).
  // Here a route that needs a session reads the session cookie; the others need nothing.
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item) as { security?: unknown }[]) {
      if (operation.security) operation.security = [{ sessionCookie: [] }, {}];
    }
  }
  return {
    paths,
    schemas: document.components?.schemas ?? {},
    tags: document.tags ?? [],
    securitySchemes: {},
  };
}
