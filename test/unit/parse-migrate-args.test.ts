import { describe, expect, it } from "vitest";
import { UsageError, type TargetOptions } from "../../scripts/lib/cli-flags";
import { parseMigrateArgs } from "../../scripts/lib/parse-migrate-args";

const LOCAL: TargetOptions = { remote: false, env: undefined, persistTo: undefined, config: "wrangler.toml" };
const RUN = { acceptEdited: [], bookmark: true };

describe("parseMigrateArgs", () => {
  it.each<{ argv: string[]; expected: ReturnType<typeof parseMigrateArgs> }>([
    { argv: ["latest"], expected: { kind: "run", command: { verb: "latest" }, target: LOCAL, force: false, ...RUN } },
    { argv: ["up"], expected: { kind: "run", command: { verb: "up" }, target: LOCAL, force: false, ...RUN } },
    { argv: ["down"], expected: { kind: "run", command: { verb: "down" }, target: LOCAL, force: false, ...RUN } },
    { argv: ["down", "--all"], expected: { kind: "run", command: { verb: "down-all" }, target: LOCAL, force: false, ...RUN } },
    { argv: ["--all", "down"], expected: { kind: "run", command: { verb: "down-all" }, target: LOCAL, force: false, ...RUN } },
    {
      argv: ["to", "20261124120000_better_auth"],
      expected: { kind: "run", command: { verb: "to", target: "20261124120000_better_auth" }, target: LOCAL, force: false, ...RUN },
    },
    { argv: ["latest", "--force"], expected: { kind: "run", command: { verb: "latest" }, target: LOCAL, force: true, ...RUN } },
    { argv: ["list"], expected: { kind: "list", target: LOCAL } },
    { argv: ["check"], expected: { kind: "check", target: LOCAL } },
    { argv: ["check", "--remote"], expected: { kind: "check", target: { ...LOCAL, remote: true } } },
    { argv: ["adopt"], expected: { kind: "adopt", target: LOCAL, preview: false } },
    { argv: ["latest", "--local", "--", "--persist-to", "/tmp/db"], expected: { kind: "run", command: { verb: "latest" }, target: { ...LOCAL, persistTo: "/tmp/db" }, force: false, ...RUN } },
    { argv: ["adopt", "--remote"], expected: { kind: "adopt", target: { ...LOCAL, remote: true }, preview: false } },
    { argv: ["sql", "adopt", "--persist-to", "/tmp/db"], expected: { kind: "adopt", target: { ...LOCAL, persistTo: "/tmp/db" }, preview: true } },
    {
      argv: ["latest", "--accept-edited", "20261124120000_better_auth,20261124130000_billing_tables"],
      expected: { kind: "run", command: { verb: "latest" }, target: LOCAL, force: false, acceptEdited: ["20261124120000_better_auth", "20261124130000_billing_tables"], bookmark: true },
    },
    {
      argv: ["down", "--remote", "--no-bookmark"],
      expected: { kind: "run", command: { verb: "down" }, target: { ...LOCAL, remote: true }, force: false, acceptEdited: [], bookmark: false },
    },
    { argv: ["make", "add_invoices"], expected: { kind: "make", name: "add_invoices" } },
    { argv: ["make", "v2_plans"], expected: { kind: "make", name: "v2_plans" } },
    { argv: ["sql"], expected: { kind: "sql", command: { verb: "latest" }, target: LOCAL, acceptEdited: [] } },
    { argv: ["sql", "down", "--all"], expected: { kind: "sql", command: { verb: "down-all" }, target: LOCAL, acceptEdited: [] } },
    { argv: ["latest", "--local"], expected: { kind: "run", command: { verb: "latest" }, target: LOCAL, force: false, ...RUN } },
    {
      argv: ["latest", "--remote"],
      expected: { kind: "run", command: { verb: "latest" }, target: { ...LOCAL, remote: true }, force: false, ...RUN },
    },
    {
      argv: ["list", "--remote", "--env", "staging"],
      expected: { kind: "list", target: { ...LOCAL, remote: true, env: "staging" } },
    },
    {
      argv: ["latest", "--persist-to", "/tmp/state", "--config", "other.toml", "--env", "dev"],
      expected: {
        kind: "run",
        command: { verb: "latest" },
        target: { remote: false, env: "dev", persistTo: "/tmp/state", config: "other.toml" },
        force: false,
        ...RUN,
      },
    },
  ])("$argv", ({ argv, expected }) => {
    expect(parseMigrateArgs(argv)).toEqual(expected);
  });

  it.each([
    { argv: [], message: "missing command" },
    { argv: ["frobnicate"], message: "unknown command 'frobnicate'" },
    { argv: ["latest", "--frobnicate"], message: "unknown flag --frobnicate" },
    { argv: ["latest", "-f"], message: "unknown flag -f" },
    { argv: ["latest", "extra"], message: "unexpected argument 'extra'" },
    { argv: ["to"], message: "'to' needs a migration name" },
    { argv: ["to", "a", "b"], message: "unexpected argument 'b'" },
    { argv: ["make"], message: "'make' needs a migration name" },
    { argv: ["make", "Bad-Name"], message: "migration name 'Bad-Name' must be snake_case" },
    { argv: ["make", "1_starts_with_digit"], message: "must be snake_case" },
    { argv: ["make", "add_invoices", "--remote"], message: "--remote does not apply to 'make'" },
    { argv: ["make", "add_invoices", "--persist-to", "x"], message: "--persist-to does not apply to 'make'" },
    { argv: ["list", "--all"], message: "--all does not apply to 'list'" },
    { argv: ["latest", "--all"], message: "--all does not apply to 'latest'" },
    { argv: ["latest", "--local", "--remote"], message: "choose one of --local and --remote" },
    { argv: ["latest", "--remote", "--persist-to", "x"], message: "--persist-to is for the local database" },
    { argv: ["latest", "--persist-to"], message: "--persist-to needs a value" },
    { argv: ["latest", "--env", "--remote"], message: "--env needs a value" },
    { argv: ["sql", "up"], message: "'sql' takes latest, down [--all], to <name> or adopt" },
    { argv: ["latest", "--no-bookmark"], message: "--no-bookmark goes with --remote" },
    { argv: ["list", "--remote", "--no-bookmark"], message: "--no-bookmark does not apply to 'list'" },
    { argv: ["check", "--accept-edited", "x"], message: "--accept-edited does not apply to 'check'" },
    { argv: ["latest", "--accept-edited", "a,,b"], message: "--accept-edited takes migration names separated by commas" },
    { argv: ["latest", "--accept-edited", "a", "--accept-edited", "b"], message: "--accept-edited given twice" },
    { argv: ["check", "extra"], message: "unexpected argument 'extra'" },
    { argv: ["adopt", "--force"], message: "--force does not apply to 'adopt'" },
    { argv: ["sql", "adopt", "now"], message: "unexpected argument 'now'" },
  ])("$argv is a usage error: $message", ({ argv, message }) => {
    expect(() => parseMigrateArgs(argv)).toThrow(UsageError);
    expect(() => parseMigrateArgs(argv)).toThrow(message);
  });
});
