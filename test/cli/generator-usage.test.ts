import { describe, expect, it } from "vitest";
import { hasStackTrace, runScript } from "./run-script";

// The generators keep the CLI contract: a bad invocation exits 2 with what is
// wrong and the usage, before any work (no throwaway D1 is even started).

describe.concurrent("generator scripts on bad usage", () => {
  it.each([
    { script: "scripts/codegen.ts", args: ["--verfy"], message: "unknown argument '--verfy'", usage: "usage: pnpm codegen [--verify]" },
    { script: "scripts/write-sql-scripts.ts", args: ["--check"], message: "unexpected argument '--check'", usage: "usage: pnpm migrations:sql [--verify] [--out <dir>]" },
    { script: "scripts/write-sql-scripts.ts", args: ["--out"], message: "--out needs a directory", usage: "usage: pnpm migrations:sql [--verify] [--out <dir>]" },
  ])("$script $args exits 2: $message", async ({ script, args, message, usage }) => {
    const { code, stdout, stderr } = await runScript(script, args);

    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(`error: ${message}\n\n${usage}\n`);
    expect(hasStackTrace(stderr)).toBe(false);
  });
});
