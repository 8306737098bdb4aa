import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LINT_RULES } from "../../src/db/migration/lint-rules";

// docs/migrations.md lists the rules users look codes up in: it must say what LINT_RULES says.
describe("LINT_RULES", () => {
  it("is the table of docs/migrations.md, code by code, with the same severities", () => {
    const docs = readFileSync(new URL("../../docs/migrations.md", import.meta.url), "utf8");
    const documented = Object.fromEntries([...docs.matchAll(/^\| ([A-Z][A-Z0-9]\d{3}) \| (error|warning) \|/gm)].map(([, code, severity]) => [code, severity]));
    const rules = Object.fromEntries(Object.entries(LINT_RULES).map(([code, rule]) => [code, rule.severity]));
    expect(documented).toEqual(rules);
  });

  it("has codes of two letters or D1 and three digits, grouped by family", () => {
    for (const code of Object.keys(LINT_RULES)) expect(code).toMatch(/^(DS|MF|BC|CD|D1|BA|SQ)\d{3}$/);
  });
});
