import type { Env } from "../env";

/** The signed-in user, as route handlers see it. */
export interface SessionUser {
  id: string;
  email: string;
  emailVerified: boolean;
}

/** Hono env of routes behind {@link requireSession}: `c.get("user")` is set. */
export interface SessionEnv {
  Bindings: Env;
  Variables: { user: SessionUser };
}
