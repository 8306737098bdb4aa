/**
 * A run refused before its batch was sent, for a reason the CLI explains in
 * its own lines (`error: …` and what to do).
 *
 * @example
 * ```ts
 * throw new RunRefusedError([`error: ${name} was edited after it was applied`, "  to proceed: …"])
 * ```
 */
export class RunRefusedError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.map((line) => line.trim()).join(" "));
    this.name = "RunRefusedError";
  }
}
