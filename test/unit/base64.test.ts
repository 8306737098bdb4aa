import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64Url, encodeHex } from "../../src/billing/base64";

// What atob accepted before these helpers moved to the runtime's Buffer, which
// on its own skips characters outside the alphabet instead of refusing them.
describe("decodeBase64", () => {
  it.each([
    ["base64 with padding", "+/8=", [251, 255]],
    ["base64url without padding", "-_8", [251, 255]],
    ["a key pasted with a line break and spaces", " AAEC\nAwQF\r\n", [0, 1, 2, 3, 4, 5]],
    ["empty", "", []],
  ])("%s decodes", (_name, text, bytes) => {
    expect([...decodeBase64(text)]).toEqual(bytes);
  });

  it.each([
    ["a character outside the alphabet", "AA@A"],
    ["padding in the middle", "AA=A"],
    ["a dangling last character", "AAAAA"],
    ["a percent-encoded cursor", "WyIy%3D"],
  ])("%s is refused", (_name, text) => {
    expect(() => decodeBase64(text)).toThrow("not base64 text");
  });
});

describe("encodeBase64Url / encodeHex", () => {
  it("writes URL-safe base64 without padding, and lower-case hex", () => {
    expect(encodeBase64Url(new Uint8Array([251, 255, 191]))).toBe("-_-_");
    expect(encodeBase64Url(new Uint8Array([0]))).toBe("AA");
    expect(encodeHex(new Uint8Array([0, 171, 255]))).toBe("00abff");
  });
});
