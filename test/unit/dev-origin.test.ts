import { describe, expect, it } from "vitest";
import { devAuthVars } from "../../scripts/lib/dev-origin";

describe("devAuthVars (the origin Better Auth trusts under pnpm dev)", () => {
  it.each<[string[], string[]]>([
    [[], ["--var", "BETTER_AUTH_URL:http://localhost:8787", "--var", "BETTER_AUTH_TRUSTED_ORIGINS:http://127.0.0.1:8787"]],
    [["--port", "8788"], ["--var", "BETTER_AUTH_URL:http://localhost:8788", "--var", "BETTER_AUTH_TRUSTED_ORIGINS:http://127.0.0.1:8788"]],
    [["--port=9000"], ["--var", "BETTER_AUTH_URL:http://localhost:9000", "--var", "BETTER_AUTH_TRUSTED_ORIGINS:http://127.0.0.1:9000"]],
    [["--ip", "192.168.1.20", "--port", "8788"], ["--var", "BETTER_AUTH_URL:http://localhost:8788", "--var", "BETTER_AUTH_TRUSTED_ORIGINS:http://127.0.0.1:8788,http://192.168.1.20:8788"]],
    [["--ip=0.0.0.0"], ["--var", "BETTER_AUTH_URL:http://localhost:8787", "--var", "BETTER_AUTH_TRUSTED_ORIGINS:http://127.0.0.1:8787"]],
    [["--ip", "::1", "--port", "8790"], ["--var", "BETTER_AUTH_URL:http://localhost:8790", "--var", "BETTER_AUTH_TRUSTED_ORIGINS:http://127.0.0.1:8790,http://[::1]:8790"]],
  ])("%j → %j", (args, vars) => {
    expect(devAuthVars(args)).toEqual(vars);
  });

  it("leaves BETTER_AUTH_URL alone when the developer passes it with --var", () => {
    expect(devAuthVars(["--port", "8788", "--var", "BETTER_AUTH_URL:https://dev.example.com"])).toEqual([]);
    expect(devAuthVars(["--var=BETTER_AUTH_URL:https://dev.example.com"])).toEqual([]);
  });

  it("refuses a port that is not a number", () => {
    expect(() => devAuthVars(["--port", "http"])).toThrow("--port must be a number from 1 to 65535");
  });
});
