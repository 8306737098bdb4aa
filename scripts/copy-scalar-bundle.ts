/**
 * Copies Scalar's standalone bundle into public/scalar/ (wrangler.toml's
 * `[build]` runs this before `wrangler dev` and `wrangler deploy`).
 */
import { copyScalarBundle } from "./lib/scalar-bundle";
import { exitWithError } from "./lib/exit-with-error";

copyScalarBundle(process.cwd()).then(
  (file) => console.log(`copied Scalar's standalone bundle to ${file}`),
  (error: unknown) => exitWithError(error),
);
