import { unquoteIdentifier } from "./sql-identifier";
import type { SqlToken } from "./sql-tokens";

/**
 * One canonical spelling of a run of SQL tokens, for comparing definitions
 * that SQLite stores as written: keywords and names lower-cased (SQLite folds
 * both), quoting of names dropped where it is not needed, whitespace and
 * comments normalised. String literals stay as they are.
 *
 * @example
 * ```ts
 * normalizeTokens(tokenizeSql(`LENGTH("Id")  >= 1`)) // length (id) >= 1
 * ```
 */
export function normalizeTokens(tokens: readonly SqlToken[]): string {
  let text = "";
  let previous = "";
  for (const token of tokens) {
    const word = spell(token);
    const glued =
      previous === "" ||
      previous === "(" ||
      previous === "." ||
      [")", ",", ".", ";"].includes(word) ||
      // The tokenizer yields `>=` as `>` and `=`.
      (token.kind === "symbol" && OPERATOR.test(word) && OPERATOR.test(previous.at(-1) ?? ""));
    text += glued ? word : ` ${word}`;
    previous = word;
  }
  return text;
}

const OPERATOR = /^[<>=!|]$/;

function spell(token: SqlToken): string {
  if (token.kind !== "literal" || token.text.startsWith("'") || /^x'/i.test(token.text)) return token.text;
  const name = unquoteIdentifier(token.text).toLowerCase();
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}
