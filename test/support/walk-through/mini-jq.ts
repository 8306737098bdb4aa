/**
 * The part of jq the docs' walk-throughs use: `.a.b`, `.a[]`, `|`, `[ … ]`
 * and `{a, b: …}`. Anything else throws, so a doc that starts using more of
 * jq fails its replay instead of being half-understood.
 *
 * @example
 * ```ts
 * jq('[.plans[] | {code}]', { plans: [{ code: "pro", x: 1 }] }) // [[{ code: "pro" }]]
 * ```
 */
export function jq(filter: string, input: unknown): unknown[] {
  const parser = new Parser(filter);
  const expression = parser.pipe();
  parser.end();
  return expression(input);
}

type Expression = (input: unknown) => unknown[];

class Parser {
  private at = 0;
  constructor(private readonly text: string) {}

  pipe(): Expression {
    let left = this.term();
    while (this.eat("|")) {
      const first = left;
      const next = this.term();
      left = (input) => first(input).flatMap(next);
    }
    return left;
  }

  end(): void {
    this.skipSpace();
    if (this.at < this.text.length) throw new Error(`jq subset: cannot read '${this.text.slice(this.at)}' in '${this.text}'`);
  }

  private term(): Expression {
    if (this.eat("[")) {
      const inner = this.pipe();
      this.expect("]");
      return (input) => [inner(input)];
    }
    if (this.eat("{")) {
      const fields: [string, Expression][] = [];
      do {
        const name = this.identifier();
        fields.push([name, this.eat(":") ? this.term() : (input) => [field(input, name)]]);
      } while (this.eat(","));
      this.expect("}");
      return (input) => [Object.fromEntries(fields.map(([name, value]) => [name, value(input)[0] ?? null]))];
    }
    return this.path();
  }

  private path(): Expression {
    this.expect(".");
    const steps: Expression[] = [];
    for (;;) {
      if (/[A-Za-z_]/.test(this.text[this.at] ?? "")) {
        const name = this.identifier();
        steps.push((input) => [field(input, name)]);
      } else if (this.text.startsWith("[]", this.at)) {
        this.at += 2;
        steps.push((input) => {
          if (!Array.isArray(input)) throw new Error(`jq subset: cannot iterate over ${JSON.stringify(input)}`);
          return input;
        });
      } else if (this.text[this.at] === "." && /[A-Za-z_]/.test(this.text[this.at + 1] ?? "")) {
        this.at++;
        continue;
      } else {
        break;
      }
    }
    return (input) => steps.reduce<unknown[]>((values, step) => values.flatMap(step), [input]);
  }

  private identifier(): string {
    this.skipSpace();
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at));
    if (!match) throw new Error(`jq subset: expected a name at '${this.text.slice(this.at)}' in '${this.text}'`);
    this.at += match[0].length;
    return match[0];
  }

  private eat(token: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.eat(token)) throw new Error(`jq subset: expected '${token}' at '${this.text.slice(this.at)}' in '${this.text}'`);
  }

  private skipSpace(): void {
    while (this.text[this.at] === " ") this.at++;
  }
}

function field(input: unknown, name: string): unknown {
  if (input === null) return null;
  if (typeof input !== "object" || Array.isArray(input)) throw new Error(`jq subset: cannot index ${JSON.stringify(input)} with '${name}'`);
  return (input as Record<string, unknown>)[name] ?? null;
}
