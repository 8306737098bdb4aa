import { readFileSync } from "node:fs";
import { WARMING_MARKER } from "./warm-checksum-cache";

// Setup file of the CLI project: waits while the global setup fills the
// migration checksum cache (test/cli/warm-checksum-cache.ts), so this file's
// CLI runs read it instead of each replaying the history. A marker left by a
// process that is gone is not waited for.
function warming(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(WARMING_MARKER, "utf8"));
  } catch {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

while (warming()) await new Promise((resolve) => setTimeout(resolve, 100));
