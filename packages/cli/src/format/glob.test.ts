import { describe, expect, it } from "vitest";
import { pathMatch } from "./glob.js";

describe("pathMatch (Go path.Match)", () => {
  it("matches literals, * and ? without crossing /", () => {
    expect(pathMatch("busybox", "busybox")).toBe(true);
    expect(pathMatch("busy*", "busybox")).toBe(true);
    expect(pathMatch("busy*", "busybox:latest")).toBe(true);
    expect(pathMatch("*", "user/app")).toBe(false);
    expect(pathMatch("*/*", "user/app")).toBe(true);
    expect(pathMatch("b?sybox", "busybox")).toBe(true);
    expect(pathMatch("busybox", "busybox:latest")).toBe(false);
  });

  it("supports classes and escapes", () => {
    expect(pathMatch("[a-c]ox", "box")).toBe(true);
    expect(pathMatch("[^a-c]ox", "box")).toBe(false);
    expect(pathMatch("a\\*b", "a*b")).toBe(true);
    expect(pathMatch("a\\*b", "axb")).toBe(false);
    expect(pathMatch("a.b", "axb")).toBe(false);
  });
});
