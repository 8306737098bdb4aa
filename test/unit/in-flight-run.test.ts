import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearInFlightRun, readOrphanedRun, writeInFlightRun, type InFlightRun } from "../../scripts/lib/in-flight-run";
import type { TargetOptions } from "../../scripts/lib/cli-flags";

// The record another CLI process leaves while its batch is in flight, and
// when a later call may report it as that process's orphan.
describe("a run recorded in flight by another process", () => {
  let dir: string;
  let target: TargetOptions;
  const run: InFlightRun = { pid: 4_000_000, startedAt: "2026-12-02T12:00:00.000Z", planned: [{ migrationName: "m1", direction: "Up" }] };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "in-flight-run-"));
    target = { remote: false, env: undefined, persistTo: dir, config: path.join(dir, "wrangler.toml") };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("is an orphan when its process is gone and the record stays", async () => {
    await writeInFlightRun(target, run);
    expect(await readOrphanedRun(target, () => false)).toEqual(run);
  });

  it("is not an orphan while its process lives", async () => {
    await writeInFlightRun(target, run);
    expect(await readOrphanedRun(target, () => true)).toBeUndefined();
  });

  it("is not an orphan when its process reported, cleared it and exited between our read and our look at the process", async () => {
    await writeInFlightRun(target, run);
    const reportedAndExited = () => {
      rmSync(path.join(dir, "kysely-migrate-in-flight-local.json"));
      return false;
    };
    expect(await readOrphanedRun(target, reportedAndExited)).toBeUndefined();
  });

  it("is nothing once cleared", async () => {
    await writeInFlightRun(target, run);
    await clearInFlightRun(target);
    expect(await readOrphanedRun(target, () => false)).toBeUndefined();
  });
});
