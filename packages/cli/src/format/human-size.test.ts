import { describe, expect, it } from "vitest";
import { formatG, humanSize } from "./human-size.js";

describe("humanSize (go-units HumanSizeWithPrecision(size, 3))", () => {
  it.each([
    [0, "0B"],
    [1, "1B"],
    [999, "999B"],
    [1000, "1kB"],
    [1024, "1.02kB"],
    [123_000, "123kB"],
    [1_990_000, "1.99MB"],
    [1_234_567, "1.23MB"],
    [4_400_000, "4.4MB"],
    [10_000_000, "10MB"],
    [72_800_000, "72.8MB"],
    [1_000_000_000, "1GB"],
    [3_250_000_000_000, "3.25TB"],
  ])("%d bytes → %s", (bytes, want) => {
    expect(humanSize(bytes)).toBe(want);
  });

  it("keeps Go's %g exponent form when rounding reaches the next power of ten", () => {
    expect(humanSize(999_999)).toBe("1e+03kB");
    expect(humanSize(999_500)).toBe("1e+03kB");
    expect(humanSize(999_499)).toBe("999kB");
  });

  it("rounds exact halves to even, as Go's strconv does", () => {
    expect(humanSize(1125)).toBe("1.12kB"); // 1.125 is exact in binary
    expect(humanSize(1375)).toBe("1.38kB"); // 1.375 too: 7 is odd, round up
    expect(humanSize(2500)).toBe("2.5kB");
  });

  it("honours another precision (HumanSize uses 4)", () => {
    expect(humanSize(2_746_000, 4)).toBe("2.746MB");
    expect(humanSize(796_000, 4)).toBe("796kB");
  });
});

describe("formatG (Go %.*g)", () => {
  it.each([
    [0, 3, "0"],
    [1, 3, "1"],
    [1.5, 3, "1.5"],
    [0.0001234, 3, "0.000123"],
    [0.00001234, 3, "1.23e-05"],
    [123456, 3, "1.23e+05"],
    [100, 3, "100"],
    [999.5, 3, "1e+03"],
    [-2.5, 3, "-2.5"],
    [12.25, 3, "12.2"],
    [12.35, 3, "12.3"], // 12.35 is slightly below the half in binary
  ])("%d with precision %d → %s", (x, p, want) => {
    expect(formatG(x, p)).toBe(want);
  });
});
