import { describe, expect, it } from "vitest";
import { displayWidth, formatTable } from "./table-writer.js";

describe("formatTable (Go tabwriter, minwidth 10, padding 3)", () => {
  it("lays out docker's images header exactly", () => {
    const rows = [
      ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
      ["busybox", "latest", "0f4d7ea3f0d2", "3 minutes ago", "4.4MB"],
    ];
    expect(formatTable(rows)).toBe(
      "REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\n" +
        "busybox      latest    0f4d7ea3f0d2   3 minutes ago   4.4MB\n",
    );
  });

  it("matches docker's history golden file (empty cells still padded)", () => {
    const rows = [
      ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
      ["123456789012", "Less than a second ago", "", "0B", "none"],
    ];
    expect(formatTable(rows)).toBe(
      "IMAGE          CREATED                  CREATED BY   SIZE      COMMENT\n" +
        "123456789012   Less than a second ago                0B        none\n",
    );
  });

  it("does not pad the last cell, and pads an empty last-but-one column", () => {
    expect(formatTable([["a", "b", ""]])).toBe(`a${" ".repeat(9)}b${" ".repeat(9)}\n`);
  });

  it("sizes a column over contiguous lines only, as elastic tabstops do", () => {
    const rows = [["aaaaaaaaaaaa", "x"], ["only"], ["b", "y"]];
    expect(formatTable(rows)).toBe(`aaaaaaaaaaaa   x\nonly\nb${" ".repeat(9)}y\n`);
  });

  it("honours other settings (docker version: minwidth 20, padding 1)", () => {
    expect(formatTable([[" Version:", "1.0"]], { minWidth: 20, padding: 1 })).toBe(
      ` Version:${" ".repeat(11)}1.0\n`,
    );
  });

  it("counts wide characters as two columns", () => {
    expect(displayWidth("日本")).toBe(4);
    expect(displayWidth("…")).toBe(1);
    expect(formatTable([["日本語語語", "x"]])).toBe("日本語語語   x\n");
  });
});
