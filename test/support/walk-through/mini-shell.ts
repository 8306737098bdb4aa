/**
 * The part of bash the docs' walk-throughs are written in, run in-process:
 * variables and arrays (`H=(…)`, `"${H[@]}"`), `$(…)`, single and double
 * quotes, `\` line continuations, `|`, `;`, `> /dev/null`, `#` comments and
 * one-level functions (`name() { … }` with `$1`, `local`). Every program is a
 * JS function given to the shell; an unknown program or syntax throws, so a
 * doc that starts using more of bash fails its replay loudly.
 *
 * @example
 * ```ts
 * const shell = new MiniShell({ echo: async (args) => `${args.join(" ")}\n` })
 * await shell.run('X=hi\necho "$X there"') // "hi there\n"
 * ```
 */
export type Program = (args: string[], stdin: string) => Promise<string>;

interface Command {
  argv: string[];
  /** `> file`: output discarded (only /dev/null is supported). */
  discard: boolean;
}

export class MiniShell {
  readonly vars = new Map<string, string | string[]>();
  private readonly functions = new Map<string, string[]>();
  private positional: string[] = [];

  constructor(private readonly programs: Record<string, Program>) {}

  /** Runs a script; resolves to everything it printed (what a terminal would show). */
  async run(script: string): Promise<string> {
    const lines = script.replace(/\\\n\s*/g, "").split("\n");
    let output = "";
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index]!.trim();
      const definition = /^([A-Za-z_]\w*)\(\) \{$/.exec(line);
      if (definition) {
        const end = lines.findIndex((candidate, at) => at > index && candidate.trim() === "}");
        if (end < 0) throw new Error(`mini-shell: function ${definition[1]} has no closing '}'`);
        this.functions.set(definition[1]!, lines.slice(index + 1, end));
        index = end;
        continue;
      }
      output += await this.line(line);
    }
    return output;
  }

  private async line(line: string): Promise<string> {
    if (line === "" || line.startsWith("#")) return "";
    const array = /^([A-Za-z_]\w*)=\((.*)\)$/.exec(line);
    if (array) {
      this.vars.set(array[1]!, (await this.words(array[2]!)).flatMap((word) => word.argv));
      return "";
    }
    const assignment = /^([A-Za-z_]\w*)=(.*)$/.exec(line);
    if (assignment) {
      const [command, ...rest] = await this.words(assignment[2]!);
      if (rest.length > 0 || (command && command.argv.length > 1)) throw new Error(`mini-shell: cannot assign '${line}'`);
      this.vars.set(assignment[1]!, command?.argv[0] ?? "");
      return "";
    }
    let output = "";
    for (const pipeline of splitOutside(line, ";")) output += await this.pipeline(pipeline);
    // A one-word trailing comment is what the doc says the line prints (`… | jq -r .status   # active`).
    const expected = /^#\s*(\S+)$/.exec(line.slice(commentStart(line)).trim())?.[1];
    if (expected !== undefined && !output.trim().includes("\n") && output.trim() !== expected) {
      throw new Error(`mini-shell: '${line}' printed '${output.trim()}', the doc says '${expected}'`);
    }
    return output;
  }

  private async pipeline(text: string): Promise<string> {
    let stdin = "";
    let discard = false;
    for (const stage of splitOutside(text, "|")) {
      const [command, ...extra] = await this.words(stage);
      if (!command || extra.length > 0) throw new Error(`mini-shell: cannot run '${stage}'`);
      stdin = await this.exec(command.argv, stdin);
      discard = command.discard;
    }
    return discard ? "" : stdin;
  }

  private async exec(argv: string[], stdin: string): Promise<string> {
    const [name, ...args] = argv;
    if (name === "local") return "";
    const body = this.functions.get(name ?? "");
    if (body) {
      const saved = this.positional;
      this.positional = args;
      try {
        let output = "";
        for (const line of body) output += await this.line(line.trim());
        return output;
      } finally {
        this.positional = saved;
      }
    }
    const program = this.programs[name ?? ""];
    if (!program) throw new Error(`mini-shell: no program '${name}' (argv ${JSON.stringify(argv)})`);
    return program(args, stdin);
  }

  /** Splits and expands one simple command into its words (and its redirect). */
  private async words(text: string): Promise<Command[]> {
    const argv: string[] = [];
    let word: string | undefined;
    let discard = false;
    let redirect = false;
    const finish = () => {
      if (word === undefined) return;
      if (redirect) {
        if (word !== "/dev/null") throw new Error(`mini-shell: only '> /dev/null' is supported, not '> ${word}'`);
        discard = true;
        redirect = false;
      } else {
        argv.push(word);
      }
      word = undefined;
    };
    for (let at = 0; at < text.length; at++) {
      const char = text[at]!;
      if (char === " " || char === "\t") {
        finish();
      } else if (char === "#" && word === undefined) {
        break;
      } else if (char === ">") {
        finish();
        redirect = true;
      } else if (char === "'") {
        const end = text.indexOf("'", at + 1);
        if (end < 0) throw new Error(`mini-shell: unclosed ' in ${text}`);
        word = (word ?? "") + text.slice(at + 1, end);
        at = end;
      } else if (char === '"') {
        const end = closingQuote(text, at);
        const inner = text.slice(at + 1, end);
        const arrayRef = /^\$\{(\w+)\[@\]\}$/.exec(inner);
        if (arrayRef && word === undefined) {
          argv.push(...this.array(arrayRef[1]!));
        } else {
          word = (word ?? "") + (await this.expand(inner.replace(/\\(["\\$`])/g, "\u0000$1"))).replace(/\u0000/g, "");
        }
        at = end;
      } else if (char === "\\") {
        word = (word ?? "") + (text[at + 1] ?? "");
        at++;
      } else if (char === "$") {
        const [value, end] = await this.dollar(text, at);
        word = (word ?? "") + value;
        at = end - 1;
      } else {
        word = (word ?? "") + char;
      }
    }
    finish();
    if (redirect) throw new Error(`mini-shell: '>' without a target in ${text}`);
    return argv.length > 0 ? [{ argv, discard }] : [];
  }

  /** Expands `$…` inside double quotes (escaped characters arrive as NUL + char and stay literal). */
  private async expand(text: string): Promise<string> {
    let out = "";
    for (let at = 0; at < text.length; at++) {
      if (text[at] === "\u0000") {
        out += text[at]! + (text[at + 1] ?? "");
        at++;
      } else if (text[at] === "$") {
        const [value, end] = await this.dollar(text, at);
        out += value;
        at = end - 1;
      } else {
        out += text[at];
      }
    }
    return out;
  }

  /** `$NAME`, `${NAME}`, `$1`, `$(command)` at `at`: its value and where it ends. */
  private async dollar(text: string, at: number): Promise<[string, number]> {
    if (text[at + 1] === "(") {
      const end = closingParen(text, at + 1);
      const output = await this.line(text.slice(at + 2, end));
      return [output.replace(/\n+$/, ""), end + 1];
    }
    const braced = /^\$\{(\w+)\}/.exec(text.slice(at));
    const bare = /^\$(\w+)/.exec(text.slice(at));
    const match = braced ?? bare;
    if (!match) throw new Error(`mini-shell: cannot expand '${text.slice(at, at + 12)}'`);
    const name = match[1]!;
    const value = /^\d+$/.test(name) ? this.positional[Number(name) - 1] : this.vars.get(name);
    if (value === undefined) throw new Error(`mini-shell: ${name} is not set (the doc uses it before setting it)`);
    if (Array.isArray(value)) throw new Error(`mini-shell: ${name} is an array; use "\${${name}[@]}"`);
    return [value, at + match[0].length];
  }

  private array(name: string): string[] {
    const value = this.vars.get(name);
    if (!Array.isArray(value)) throw new Error(`mini-shell: ${name} is not an array`);
    return value;
  }
}

function closingQuote(text: string, open: number): number {
  for (let at = open + 1; at < text.length; at++) {
    if (text[at] === "\\") at++;
    else if (text[at] === '"') return at;
  }
  throw new Error(`mini-shell: unclosed " in ${text}`);
}

function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let at = open; at < text.length; at++) {
    const char = text[at]!;
    if (quote) {
      if (char === "\\" && quote === '"') at++;
      else if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === "(") depth++;
    else if (char === ")" && --depth === 0) return at;
  }
  throw new Error(`mini-shell: unclosed $( in ${text}`);
}

/** Splits at `separator` where it is outside quotes and `$(…)`. */
function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    if (quote) {
      if (char === "\\" && quote === '"') at++;
      else if (char === quote) quote = undefined;
    } else if (char === "\\") at++;
    else if (char === "'" || char === '"') quote = char;
    else if (char === "(") depth++;
    else if (char === ")") depth--;
    else if (char === "#" && depth === 0 && (at === 0 || text[at - 1] === " ")) break;
    else if (char === separator && depth === 0) {
      parts.push(text.slice(start, at));
      start = at + 1;
    }
  }
  const endOfCode = commentStart(text);
  parts.push(text.slice(start, endOfCode));
  return parts.map((part) => part.trim()).filter(Boolean);
}

/** Where a trailing ` # comment` starts (outside quotes and `$(…)`), or the text's length. */
function commentStart(text: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    if (quote) {
      if (char === "\\" && quote === '"') at++;
      else if (char === quote) quote = undefined;
    } else if (char === "\\") at++;
    else if (char === "'" || char === '"') quote = char;
    else if (char === "(") depth++;
    else if (char === ")") depth--;
    else if (char === "#" && depth === 0 && (at === 0 || text[at - 1] === " ")) return at;
  }
  return text.length;
}
