import { describe, expect, it } from "vitest";
import { codegen, USAGE as CODEGEN_USAGE } from "../../scripts/commands/codegen";
import { writeSqlScripts, USAGE as SQL_USAGE } from "../../scripts/commands/write-sql-scripts";
import { hasStackTrace, runInProcess, runScript } from "./run-script";

// The generators keep the CLI contract: a bad invocation exits 2 with what is
// wrong and the usage, before any work (no throwaway D1 is even started).

describe("generator scripts on bad usage", () => {
  it.each([
    { command: codegen, args: ["--verfy"], message: "unknown argument '--verfy'", usage: CODEGEN_USAGE },
    { command: writeSqlScripts, args: ["--check"], message: "unexpected argument '--check'", usage: SQL_USAGE },
    { command: writeSqlScripts, args: ["--out"], message: "--out needs a directory", usage: SQL_USAGE },
  ])("$args exits 2: $message", async ({ command, args, message, usage }) => {
    const { code, stdout, stderr } = await runInProcess(command, args, usage);

    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(`error: ${message}\n\n${usage}\n`);
  });

  it("pnpm codegen --verfy, as a process: exit 2, the message and usage on stderr, no stack trace", async () => {
    const { code, stdout, stderr } = await runScript("scripts/codegen.ts", ["--verfy"]);

    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe("error: unknown argument '--verfy'\n\nusage: pnpm codegen [--verify]\n");
    expect(hasStackTrace(stderr)).toBe(false);
  });

  it("pnpm migrations:sql --check, as a process: exit 2, the message and usage on stderr, no stack trace", async () => {
    const { code, stdout, stderr } = await runScript("scripts/write-sql-scripts.ts", ["--check"]);

    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(`error: unexpected argument '--check'\n\n${SQL_USAGE}\n`);
    expect(hasStackTrace(stderr)).toBe(false);
  });
});
