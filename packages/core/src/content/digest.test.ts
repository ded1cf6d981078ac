import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { assertDigest, chainIds, sha256Digest } from "./digest.js";

describe("digests", () => {
  it("computes chain IDs as the OCI spec defines them", () => {
    const a = sha256Digest("a");
    const b = sha256Digest("b");
    const c = sha256Digest("c");
    const ab = `sha256:${createHash("sha256").update(`${a} ${b}`).digest("hex")}`;
    const abc = `sha256:${createHash("sha256").update(`${ab} ${c}`).digest("hex")}`;
    expect(chainIds([a, b, c])).toEqual([a, ab, abc]);
    expect(chainIds([])).toEqual([]);
  });

  it("rejects malformed and unsupported digests", () => {
    expect(() => assertDigest("sha256:xyz")).toThrow(InvalidArgumentError);
    expect(() => assertDigest(`sha512:${"a".repeat(128)}`)).toThrow("unsupported digest algorithm");
    expect(() => assertDigest(`sha256:${"A".repeat(64)}`)).toThrow("invalid digest");
    expect(assertDigest(`sha256:${"a".repeat(64)}`)).toMatch(/^sha256:/);
  });
});
