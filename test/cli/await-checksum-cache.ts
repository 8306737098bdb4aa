import { readFileSync } from "node:fs";
import { WARMING_MARKER } from "./warm-checksum-cache";

// Setup file of the CLI project: waits while the global setup fills the
// migration checksum cache (test/cli/warm-checksum-cache.ts), so this file's
// CLI runs read it instead of each replaying the history. A marker left by a
// process that is gone, or one that is no pid, is not waited for; nor is any
// for more than two minutes (the runs then replay themselves).
function warming(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(WARMING_MARKER, "utf8"));
  } catch {
    return false;
  }
  // 0 and negative numbers would name process groups, this one included.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const deadline = Date.now() + 120_000;
while (warming() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
