import { runBatch } from "../../../src/billing/d1-batch";
import { parsePlanCatalog, planCatalogChanges } from "../../../src/billing/plan-catalog";
import { createDb } from "../../../src/db/create-db";
import type { Env } from "../../../src/env";
import { addFakeMandate, installFakeGoCardless } from "../gocardless/fake-gocardless";
import { jq } from "./mini-jq";
import { MiniShell, type Program } from "./mini-shell";

/** One HTTP exchange of a replayed walk-through. */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  body: string;
}

/**
 * The fenced `sh` blocks of `markdown` between the heading `section` and the
 * next `## ` heading, in order: what a reader pastes into their terminal.
 */
export function shellBlocks(markdown: string, section: string): string[] {
  const start = markdown.indexOf(`\n${section}\n`);
  if (start < 0) throw new Error(`no section '${section}'`);
  const end = markdown.indexOf("\n## ", start + section.length + 2);
  const text = markdown.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/**
 * Runs a walk-through's shell as printed, in-process: `curl` calls
 * `fetch(request, bindings)` (the Worker's app), `pnpm billing:plans` loads
 * `catalog` as the script does, `pnpm exec wrangler d1 execute … --command`
 * runs its SQL on `bindings.DB`, `pnpm -s billing:simulate mandate <CU…>` sets
 * a mandate up for that customer at the fake GoCardless (as the local stand-in
 * does), and `.dev.vars` holds `bindings`' secrets.
 * Resolves to what the terminal shows and every HTTP exchange.
 */
export async function replayWalkThrough(
  scripts: string[],
  options: { bindings: Env; catalog: string; fetch: (request: Request, bindings: Env) => Promise<Response> },
): Promise<{ output: string; exchanges: Exchange[] }> {
  const { bindings } = options;
  // GoCardless at the network edge (customers, mandates), as `pnpm dev`'s stand-in serves it.
  installFakeGoCardless();
  const exchanges: Exchange[] = [];
  const jars = new Map<string, Map<string, string>>();
  const files: Record<string, string> = {
    ".dev.vars": Object.entries(bindings)
      .filter(([, value]) => typeof value === "string")
      .map(([name, value]) => `${name}=${value}`)
      .join("\n"),
  };

  const curl: Program = async (args) => {
    const headers = new Headers();
    let method: string | undefined;
    let data: string | undefined;
    let url: string | undefined;
    let saveTo: string | undefined;
    for (let at = 0; at < args.length; at++) {
      const arg = args[at]!;
      const next = () => args[++at] ?? "";
      if (arg === "-s") continue;
      else if (arg === "-H") {
        const header = next();
        const colon = header.indexOf(":");
        headers.set(header.slice(0, colon).trim(), header.slice(colon + 1).trim());
      } else if (arg === "-d") data = next();
      else if (arg === "-X") method = next();
      else if (arg === "-c") saveTo = next();
      else if (arg === "-b") {
        const jar = jars.get(next());
        if (jar) headers.set("cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
      } else if (arg.startsWith("-")) throw new Error(`curl stand-in: no option ${arg}`);
      else url = arg;
    }
    if (!url) throw new Error(`curl stand-in: no URL in ${JSON.stringify(args)}`);
    // As curl does: -d means POST and, unless a Content-Type is given, a form body.
    if (data !== undefined && !headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded");
    const request = new Request(url, { method: method ?? (data === undefined ? "GET" : "POST"), headers, body: data });
    const response = await options.fetch(request, bindings);
    const body = await response.text();
    exchanges.push({ method: request.method, path: new URL(url).pathname, status: response.status, body });
    if (saveTo) {
      const jar = jars.get(saveTo) ?? new Map<string, string>();
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(";");
        const eq = pair!.indexOf("=");
        jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
      jars.set(saveTo, jar);
    }
    return body;
  };

  const pnpm: Program = async (args) => {
    if (args.join(" ") === "billing:plans") {
      const db = createDb(bindings.DB);
      const { changes, queries } = await planCatalogChanges(db, parsePlanCatalog(options.catalog, "billing/plans.json"), new Date().toISOString());
      await runBatch(bindings.DB, queries);
      return changes.map((change) => `${change.action}d`.replace("unchangedd", "unchanged").padEnd(12) + ` ${change.code}\n`).join("");
    }
    if (args.slice(0, 3).join(" ") === "-s billing:simulate mandate" && args.length === 4) {
      if (!/^CU[A-Z0-9]+$/.test(args[3]!)) throw new Error(`billing:simulate mandate: no customer id (got ${args[3]})`);
      return `${addFakeMandate(args[3]!)}\n`;
    }
    const command = args.indexOf("--command");
    if (args.slice(0, 5).join(" ") === "exec wrangler d1 execute billing" && args.includes("--local") && command > 0) {
      await bindings.DB.prepare(args[command + 1]!).run();
      return "";
    }
    throw new Error(`pnpm stand-in: cannot run 'pnpm ${args.join(" ")}'`);
  };

  const shell = new MiniShell({
    curl,
    pnpm,
    date: async (args) => {
      if (args.join(" ") !== "+%s") throw new Error(`date stand-in: only +%s`);
      return `${Math.floor(Date.now() / 1000)}\n`;
    },
    echo: async (args) => `${args.join(" ")}\n`,
    printf: async ([format, ...rest]) => {
      if (format !== "%s" || rest.length !== 1) throw new Error(`printf stand-in: only '%s' with one argument`);
      return rest[0]!;
    },
    grep: async ([pattern, file]) => {
      const text = files[file ?? ""];
      if (text === undefined) throw new Error(`grep stand-in: no file ${file}`);
      const regex = new RegExp(pattern!);
      return text.split("\n").filter((line) => regex.test(line)).map((line) => `${line}\n`).join("");
    },
    cut: async (args, stdin) => {
      const delimiter = args.find((arg) => arg.startsWith("-d"))?.slice(2);
      const fields = /^-f(\d+)(-?)$/.exec(args.find((arg) => arg.startsWith("-f")) ?? "");
      if (!delimiter || !fields) throw new Error(`cut stand-in: only -dX -fN[-], not ${args.join(" ")}`);
      const from = Number(fields[1]) - 1;
      return lines(stdin).map((line) => {
        const parts = line.split(delimiter);
        return `${(fields[2] ? parts.slice(from) : parts.slice(from, from + 1)).join(delimiter)}\n`;
      }).join("");
    },
    openssl: async (args, stdin) => {
      const key = args[args.indexOf("-hmac") + 1];
      if (args.join(" ") !== `dgst -sha256 -hmac ${key} -hex`) throw new Error(`openssl stand-in: only dgst -sha256 -hmac KEY -hex`);
      const cryptoKey = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(stdin)));
      // OpenSSL 3's line: "SHA2-256(stdin)= <hex>".
      return `SHA2-256(stdin)= ${[...mac].map((byte) => byte.toString(16).padStart(2, "0")).join("")}\n`;
    },
    sed: async ([script], stdin) => {
      const substitution = /^s\/(.*)\/(.*)\/$/.exec(script ?? "");
      if (!substitution) throw new Error(`sed stand-in: only s/regex/replacement/`);
      const regex = new RegExp(substitution[1]!);
      return lines(stdin).map((line) => `${line.replace(regex, substitution[2]!)}\n`).join("");
    },
    jq: async (args, stdin) => {
      const raw = args.includes("-r");
      const filters = args.filter((arg) => arg !== "-r" && arg !== "-c");
      if (filters.length !== 1) throw new Error(`jq stand-in: one filter and -r/-c, not ${args.join(" ")}`);
      return jq(filters[0]!, JSON.parse(stdin))
        .map((value) => `${raw && typeof value === "string" ? value : JSON.stringify(value)}\n`)
        .join("");
    },
  });

  let output = "";
  for (const script of scripts) output += await shell.run(script);
  return { output, exchanges };
}

function lines(text: string): string[] {
  return text.replace(/\n$/, "").split("\n");
}
