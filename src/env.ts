declare global {
  namespace Cloudflare {
    /**
     * The Worker's bindings: `wrangler.toml` plus secrets from `.dev.vars` /
     * `wrangler secret put`. Declared here so `cloudflare:workers`' `env` is typed too.
     */
    interface Env {
      DB: D1Database;
      /** Signs Better Auth's session cookies; at least 32 random characters. */
      BETTER_AUTH_SECRET: string;
      /** The public origin of this Worker, e.g. http://localhost:8787. */
      BETTER_AUTH_URL: string;
      /** Other origins whose browser requests Better Auth and billing writes accept, comma-separated. */
      BETTER_AUTH_TRUSTED_ORIGINS?: string;
      /**
       * AES-256-GCM keys for direct-debit tokens: `"<id>:<base64 of 32 bytes>,…"`,
       * first = current (encrypts new tokens), the rest still decrypt (rotation).
       * Missing or malformed → token routes answer 500 TOKEN_ENCRYPTION_UNAVAILABLE.
       */
      TOKEN_ENCRYPTION_KEYS?: string;
      /** HMAC-SHA256 key (base64, ≥ 32 bytes) for token fingerprints; never rotated casually. */
      TOKEN_FINGERPRINT_KEY?: string;
      /**
       * GoCardless API access token (sandbox or live, from GoCardless's dashboard).
       * Missing: nothing is ever submitted to GoCardless (fails closed).
       */
      GOCARDLESS_ACCESS_TOKEN?: string;
      /** GoCardless's API base URL: https://api-sandbox.gocardless.com or https://api.gocardless.com (wrangler.toml). */
      GOCARDLESS_API_URL: string;
      /** Items per sweep of the scheduled billing engine (1–150, default 8; docs/billing-engine.md). */
      BILLING_ENGINE_CHUNK?: string;
      /** GoCardless webhook endpoint secret(s), comma-separated while rotating. */
      WEBHOOK_SECRET_GOCARDLESS?: string;
      /** Comma-separated e-mails of users who may manage plans (their e-mail must be verified). */
      BILLING_OPERATOR_EMAILS?: string;
    }
  }
}

/** The Worker's bindings (see `Cloudflare.Env` above). */
export type Env = Cloudflare.Env;
