import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ProgressLines, progressText } from "./progress-bar.js";

describe("progressText (docker's JSONProgress.String)", () => {
  it("draws a 50-column bar and current/total in docker's units", () => {
    expect(progressText(12_000_000, 40_000_000)).toBe(
      `[===============>${" ".repeat(35)}]     12MB/40MB`,
    );
    expect(progressText(40_000_000, 40_000_000)).toBe(`[${"=".repeat(50)}>]     40MB/40MB`);
    expect(progressText(5_865_472, 5_865_472)).toBe(`[${"=".repeat(50)}>]  5.865MB/5.865MB`);
  });

  it("leaves the bar out on narrow terminals, the numbers past the total, and empty progress", () => {
    expect(progressText(1_000, 2_000, 80)).toBe("     1kB/2kB");
    expect(progressText(3_000, 2_000)).toBe(`[${"=".repeat(50)}>] `);
    expect(progressText(0, 0)).toBe("");
  });
});

describe("ProgressLines", () => {
  it("redraws an item's line in place and starts a new line for the next item", () => {
    let out = "";
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const p = new ProgressLines(Object.assign(sink, { columns: 80 }), "Loading layer");
    p.update("aaaaaaaaaaaa", 1_000, 2_000);
    p.update("aaaaaaaaaaaa", 2_000, 2_000);
    p.update("bbbbbbbbbbbb", 3_000, 3_000);
    p.finish();
    expect(out).toBe(
      "\r\x1b[2Kaaaaaaaaaaaa: Loading layer      1kB/2kB" +
        "\r\x1b[2Kaaaaaaaaaaaa: Loading layer      2kB/2kB\n" +
        "\r\x1b[2Kbbbbbbbbbbbb: Loading layer      3kB/3kB\n",
    );
  });
});
