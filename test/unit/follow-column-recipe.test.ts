import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { applyHunk, recipeSteps } from "../../scripts/follow-column-recipe";

// The recipe itself is followed end to end by .ci/run (scripts/follow-column-recipe.ts);
// these cases pin how its steps are read and applied, without a subprocess.

describe("following docs/add-a-billing-column.md", () => {
  it("reads the page's steps in order: commands, whole files, hunks", () => {
    const steps = recipeSteps(readFileSync("docs/add-a-billing-column.md", "utf8"));
    expect(steps.map((step) => `${step.kind}${step.file ? ` ${step.file}` : ""}`)).toEqual([
      "sh",
      "file migrations/*_add_subscription_cancel_reason.ts",
      "diff src/db/billing-limits.ts",
      "diff src/db/schema/billing.ts",
      "diff src/db/schema/billing.ts",
      "diff src/db/row-schemas/user-subscriptions.ts",
      "diff test/support/billing-seed.ts",
      "sh",
      "sh",
    ]);
  });

  it("every hunk applies to today's file exactly once", () => {
    for (const step of recipeSteps(readFileSync("docs/add-a-billing-column.md", "utf8")).filter((step) => step.kind === "diff")) {
      expect(() => applyHunk(readFileSync(step.file!, "utf8"), step.body, step.file!)).not.toThrow();
    }
  });

  it("inserts after context, replaces removed lines, keeps the rest", () => {
    expect(applyHunk("a\nb\nc\n", " a\n+x\n", "f")).toBe("a\nx\nb\nc\n");
    expect(applyHunk("a\nb\nc\n", "-b\n+y\n", "f")).toBe("a\ny\nc\n");
  });

  it.for([
    ["context that is missing", "a\nb\n", " z\n+x\n"],
    ["context that appears twice", "a\na\n", " a\n+x\n"],
    ["context that is only part of a line", "xa\nb\n", " a\n+x\n"],
    ["a hunk with nothing to anchor it", "a\n", "+x\n"],
  ])("refuses %s", ([, source, diff]) => {
    expect(() => applyHunk(source!, diff!, "f.ts")).toThrow(/not found exactly once/);
  });
});
