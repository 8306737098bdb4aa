import { describe, expect, it } from "vitest";
import { splitStatements, tokenizeSql } from "../../src/db/migration/sql-tokens";

const count = (sql: string) => splitStatements(tokenizeSql(sql)).length;

describe("splitStatements (how many statements D1 would run)", () => {
  it.each([
    [`select 1`, 1],
    [`select 1;`, 1],
    [`select 1; -- done; really\n`, 1],
    [`select ';' as "a;b", [c;d] /* ; */`, 1],
    [`select 1; drop table "t"`, 2],
    [`insert into t values ('it''s; fine'); delete from t`, 2],
    [`create trigger tr after insert on t begin update t set x = case when 1 then 2 else 3 end; delete from u; end; select 1`, 2],
    [`CREATE TEMP TRIGGER tr AFTER DELETE ON t BEGIN DELETE FROM u; END`, 1],
    [`;;`, 0],
  ])("%j holds %i", (sql, expected) => {
    expect(count(sql)).toBe(expected);
  });

  it("tracks parenthesis depth and lower-cases bare words only", () => {
    expect(tokenizeSql(`WITH "C" AS (SELECT 1) SELECT`).map(({ kind, text, depth }) => `${kind}:${text}@${depth}`)).toEqual([
      "word:with@0",
      'literal:"C"@0',
      "word:as@0",
      "symbol:(@0",
      "word:select@1",
      "symbol:1@1",
      "symbol:)@0",
      "word:select@0",
    ]);
  });
});
