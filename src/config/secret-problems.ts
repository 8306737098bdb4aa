/** The value `.dev.vars.example` ships where each secret goes; `pnpm dev` replaces it. */
export const SECRET_PLACEHOLDER = "__RANDOM_32_BYTES_BASE64__";

/** Better Auth signs sessions with this secret; shorter is guessable (its own advice is 32+). */
const MIN_AUTH_SECRET_LENGTH = 32;

/** Secrets that must never run with the example's placeholder in them. */
const PLACEHOLDER_CHECKED = ["BETTER_AUTH_SECRET", "TOKEN_ENCRYPTION_KEYS", "TOKEN_FINGERPRINT_KEY", "WEBHOOK_SECRET_GOCARDLESS"] as const;

type Secrets = Partial<Record<(typeof PLACEHOLDER_CHECKED)[number], string>>;

/**
 * What is wrong with the Worker's secrets, one sentence per variable (empty:
 * nothing). BETTER_AUTH_SECRET must be set and at least 32 characters; no
 * secret may still hold the example's placeholder (a copied
 * `.dev.vars.example` would otherwise sign sessions with a public value).
 * Unset token keys and webhook secrets are not listed: only their routes need
 * them, and those answer 500 on their own.
 *
 * @example
 * ```ts
 * secretProblems({ BETTER_AUTH_SECRET: "short" }) // ["BETTER_AUTH_SECRET is shorter than 32 characters"]
 * ```
 */
export function secretProblems(env: Secrets): string[] {
  return PLACEHOLDER_CHECKED.flatMap((name) => {
    const value = env[name];
    if (value?.includes(SECRET_PLACEHOLDER)) return [`${name} still holds the placeholder ${SECRET_PLACEHOLDER}`];
    if (name !== "BETTER_AUTH_SECRET") return [];
    if (!value) return [`${name} is not set`];
    if (value.length < MIN_AUTH_SECRET_LENGTH) return [`${name} is shorter than ${MIN_AUTH_SECRET_LENGTH} characters`];
    return [];
  });
}
