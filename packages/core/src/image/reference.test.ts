import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import {
  familiarName,
  familiarString,
  parseReference,
  parseTagTarget,
  referenceString,
  withDefaultTag,
} from "./reference.js";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  it.each([
    ["busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["user/app:v1", "docker.io/user/app:v1", "user/app:v1"],
    ["localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"],
    ["localhost/a", "localhost/a:latest", "localhost/a:latest"],
    [
      "registry.example.com:443/x/y/z",
      "registry.example.com:443/x/y/z:latest",
      "registry.example.com:443/x/y/z:latest",
    ],
    ["[::1]:5000/a", "[::1]:5000/a:latest", "[::1]:5000/a:latest"],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`, `busybox:1@${D}`],
    ["a__b/c-d.e", "docker.io/a__b/c-d.e:latest", "a__b/c-d.e:latest"],
  ])("normalizes %s", (input, full, familiar) => {
    const ref = withDefaultTag(parseReference(input));
    expect(referenceString(ref)).toBe(full);
    expect(familiarString(ref)).toBe(familiar);
  });

  it.each([
    ["", "empty"],
    ["Busybox", "lowercase"],
    ["busybox:", "invalid tag"],
    ["busybox:-x", "invalid tag"],
    [`busybox:${"t".repeat(129)}`, "invalid tag"],
    ["a/-b", "invalid repository name"],
    ["a//b", "invalid repository name"],
    ["busybox@sha256:abc", "invalid digest"],
    ["a".repeat(64), "64-byte hexadecimal"],
    [`${"a/".repeat(130)}b`, "255"],
    ["-host.com/a", "invalid"],
  ])("rejects %j naming the problem", (input, why) => {
    expect(() => parseReference(input)).toThrow(InvalidArgumentError);
    expect(() => parseReference(input)).toThrow(why);
  });

  it("keeps tag and digest optional until defaulted", () => {
    const ref = parseReference("busybox");
    expect(ref.tag).toBeUndefined();
    expect(familiarName(ref)).toBe("busybox");
    expect(withDefaultTag(parseReference(`busybox@${D}`)).tag).toBeUndefined();
  });

  it("refuses a digest in a tag target", () => {
    expect(parseTagTarget("a/b").tag).toBe("latest");
    expect(() => parseTagTarget(`a@${D}`)).toThrow(InvalidArgumentError);
  });
});
