import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { FilterArgs, parseFilterTime, parseGoDuration } from "./filter-args.js";

describe("FilterArgs (moby's filters.Args)", () => {
  it("parses key=value flags, lower-casing keys and trimming both sides", () => {
    const f = FilterArgs.parse(["Label = a=b ", "label=c", "dangling=true"]);
    expect(f.get("label")).toEqual(["a=b", "c"]);
    expect(f.contains("dangling")).toBe(true);
    expect(() => FilterArgs.parse(["nonsense"])).toThrow(
      new InvalidArgumentError("bad format of filter (expected name=value)"),
    );
  });

  it("validates keys with moby's wording", () => {
    expect(() => FilterArgs.parse(["color=red"]).validate(["label"])).toThrow(
      "invalid filter 'color'",
    );
  });

  it("matches label lists: every filter must hold", () => {
    const f = FilterArgs.parse(["label=a", "label=b=2"]);
    expect(f.matchKVList("label", { a: "x", b: "2" })).toBe(true);
    expect(f.matchKVList("label", { a: "x", b: "3" })).toBe(false);
    expect(f.matchKVList("label", { b: "2" })).toBe(false);
    expect(f.matchKVList("label", null)).toBe(false);
    expect(f.matchKVList("other", null)).toBe(true);
  });

  it("reads booleans as moby does", () => {
    expect(FilterArgs.parse(["dangling=1"]).getBool("dangling", false)).toBe(true);
    expect(FilterArgs.parse(["dangling=FALSE"]).getBool("dangling", true)).toBe(false);
    expect(new FilterArgs().getBool("dangling", true)).toBe(true);
    expect(() =>
      FilterArgs.parse(["dangling=true", "dangling=false"]).getBool("dangling", false),
    ).toThrow("invalid filter 'dangling=true,false'");
  });
});

describe("filter times (moby's timetypes)", () => {
  const now = new Date("2024-05-01T12:00:00Z");
  it("reads Go durations back from now", () => {
    expect(parseGoDuration("1h30m")).toBe(5_400_000);
    expect(parseGoDuration("1.5s")).toBe(1500);
    expect(parseGoDuration("10")).toBeUndefined();
    expect(parseFilterTime("24h", now).toISOString()).toBe("2024-04-30T12:00:00.000Z");
  });

  it("reads Unix seconds and RFC 3339 dates", () => {
    expect(parseFilterTime("1714564800", now).toISOString()).toBe("2024-05-01T12:00:00.000Z");
    expect(parseFilterTime("2024-05-01T10:00:00Z", now).toISOString()).toBe(
      "2024-05-01T10:00:00.000Z",
    );
    expect(parseFilterTime("2024-05-01T10:00:00+02:00", now).toISOString()).toBe(
      "2024-05-01T08:00:00.000Z",
    );
    expect(parseFilterTime("2024-05-01", now).getDate()).toBe(1);
    expect(() => parseFilterTime("soon", now)).toThrow(
      'failed to parse value as time or duration: "soon"',
    );
  });
});
