import { migrations } from "../../migrations/index";
import { currentChecksums } from "../../scripts/lib/current-checksums";

/**
 * Vitest global setup of the CLI project: fills the migration checksum cache
 * once (a replay on a clean clone or after a migration changed; milliseconds
 * otherwise), so the CLI processes the tests start do not all replay at once.
 */
export default async function warmChecksumCache(): Promise<void> {
  await currentChecksums(migrations);
}
