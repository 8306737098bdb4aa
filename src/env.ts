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
    }
  }
}

/** The Worker's bindings (see `Cloudflare.Env` above). */
export type Env = Cloudflare.Env;
