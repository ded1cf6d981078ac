import { describe, expect, it } from "vitest";
import { ellipsis, truncateId } from "./ids.js";

describe("truncateId (stringid.TruncateID)", () => {
  it("drops the algorithm and keeps 12 hex digits", () => {
    expect(truncateId(`sha256:${"0123456789abcdef".repeat(4)}`)).toBe("0123456789ab");
    expect(truncateId("0123456789abcdef")).toBe("0123456789ab");
    expect(truncateId("<missing>")).toBe("<missing>");
  });
});

describe("ellipsis (formatter.Ellipsis)", () => {
  it("keeps short strings and cuts long ones to width-1 plus …", () => {
    expect(ellipsis("short", 45)).toBe("short");
    const long = "/bin/sh -c #(nop) ADD file:7c0f1e3ab0dd3f6ba5d8ed7b8b6c30e6a7 in / ";
    const cut = ellipsis(long, 45);
    expect(cut).toBe(`${long.slice(0, 44)}…`);
    expect([...cut]).toHaveLength(45);
    expect(ellipsis("x".repeat(45), 45)).toBe("x".repeat(45));
  });

  it("measures wide characters by display width", () => {
    expect(ellipsis("日本語日本語", 5)).toBe("日本…");
  });

  it("handles degenerate widths as docker does", () => {
    expect(ellipsis("abc", 0)).toBe("");
    expect(ellipsis("abc", 1)).toBe("a");
  });
});
