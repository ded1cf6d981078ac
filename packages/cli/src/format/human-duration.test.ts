import { describe, expect, it } from "vitest";
import { createdSince, humanDuration, rfc3339 } from "./human-duration.js";

const s = 1000;
const min = 60 * s;
const hour = 60 * min;
const day = 24 * hour;
const week = 7 * day;
const month = 30 * day;
const year = 365 * day;

describe("humanDuration (go-units HumanDuration)", () => {
  // The cases of go-units' own TestHumanDuration.
  it.each([
    [450, "Less than a second"],
    [1 * s, "1 second"],
    [45 * s, "45 seconds"],
    [59 * s, "59 seconds"],
    [60 * s, "About a minute"],
    [3 * min, "3 minutes"],
    [35 * min + 40 * s, "35 minutes"],
    [59 * min, "59 minutes"],
    [1 * hour, "About an hour"],
    [1 * hour + 29 * min, "About an hour"],
    [1 * hour + 31 * min, "2 hours"],
    [3 * hour + 29 * min, "3 hours"],
    [3 * hour + 31 * min, "4 hours"],
    [24 * hour, "24 hours"],
    [1 * day + 12 * hour, "36 hours"],
    [2 * day, "2 days"],
    [13 * day + 5 * hour, "13 days"],
    [2 * week, "2 weeks"],
    [2 * week + 4 * day, "2 weeks"],
    [1 * month, "4 weeks"],
    [1 * month + 2 * week, "6 weeks"],
    [2 * month, "2 months"],
    [3 * month + 1 * week, "3 months"],
    [24 * month, "24 months"],
    [24 * month + 2 * week, "2 years"],
    [3 * year + 2 * month, "3 years"],
  ])("%d ms → %s", (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  it("treats a time in the future (clock skew) as less than a second", () => {
    expect(humanDuration(-5 * min)).toBe("Less than a second");
  });
});

describe("createdSince", () => {
  it("appends ' ago' and works on whole seconds, as docker's time.Unix(created, 0)", () => {
    const now = new Date("2024-05-01T12:00:00.000Z");
    expect(createdSince(new Date("2024-05-01T11:59:23.900Z"), now)).toBe("37 seconds ago");
    expect(createdSince(new Date("2024-05-01T11:59:59.999Z"), now)).toBe("1 second ago");
    expect(createdSince(new Date("2024-04-17T12:00:00Z"), now)).toBe("2 weeks ago");
    expect(createdSince(now, now)).toBe("Less than a second ago");
  });
});

describe("rfc3339", () => {
  it("formats in the local zone like Go's time.RFC3339", () => {
    const d = new Date("2024-05-01T10:20:30.456Z");
    const out = rfc3339(d);
    expect(out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    if (d.getTimezoneOffset() === 0) expect(out).toBe("2024-05-01T10:20:30Z");
    expect(new Date(out).getTime()).toBe(Date.parse("2024-05-01T10:20:30Z"));
  });
});
