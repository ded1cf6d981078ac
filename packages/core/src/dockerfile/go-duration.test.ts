import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { parseGoDuration } from "./go-duration.js";

describe("parseGoDuration (Go's time.ParseDuration)", () => {
  it("reads units, fractions, signs and sums", () => {
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("300ms")).toBe(300e6);
    expect(parseGoDuration("1m30s")).toBe(90e9);
    expect(parseGoDuration("1.5h")).toBe(5400e9);
    expect(parseGoDuration("-2s")).toBe(-2e9);
    expect(parseGoDuration("+5s")).toBe(5e9);
    expect(parseGoDuration(".5s")).toBe(5e8);
    expect(parseGoDuration("5.s")).toBe(5e9);
    expect(parseGoDuration("1h1h")).toBe(7200e9);
    expect(parseGoDuration("10us")).toBe(10e3);
    expect(parseGoDuration("10\u00b5s")).toBe(10e3);
    expect(parseGoDuration("7ns")).toBe(7);
  });

  it("fails with Go's messages", () => {
    expect(() => parseGoDuration("")).toThrow('time: invalid duration ""');
    expect(() => parseGoDuration("abc")).toThrow('time: invalid duration "abc"');
    expect(() => parseGoDuration(".s")).toThrow('time: invalid duration ".s"');
    expect(() => parseGoDuration("5")).toThrow('time: missing unit in duration "5"');
    expect(() => parseGoDuration("1d")).toThrow('time: unknown unit "d" in duration "1d"');
    expect(() => parseGoDuration("-")).toThrow(InvalidArgumentError);
  });
});
