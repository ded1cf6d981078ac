import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JsonLogWriter, readLogEntries } from "./json-log.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-log-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("JsonLogWriter and readLogEntries", () => {
  it("writes one docker json-file entry per line, per stream, in arrival order", () => {
    const file = path.join(dir, "c-json.log");
    const w = new JsonLogWriter(file);
    w.write("stdout", Buffer.from("one\ntw"));
    w.write("stderr", Buffer.from("err\n"));
    w.write("stdout", Buffer.from("o\nthree"));
    // A multi-byte character split across chunks stays whole.
    const euro = Buffer.from("€\n");
    w.write("stderr", euro.subarray(0, 1));
    w.write("stderr", euro.subarray(1));
    w.close();
    const { entries, offset } = readLogEntries(file);
    expect(entries.map((e) => [e.stream, e.log])).toEqual([
      ["stdout", "one\n"],
      ["stderr", "err\n"],
      ["stdout", "two\n"],
      ["stderr", "€\n"],
      ["stdout", "three"],
    ]);
    for (const e of entries) expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT.+Z$/);
    expect(offset).toBe(fs.statSync(file).size);
    expect(readLogEntries(file, offset).entries).toEqual([]);
  });

  it("reads only complete lines from an offset, and nothing from a missing file", () => {
    const file = path.join(dir, "partial.log");
    fs.writeFileSync(file, '{"log":"a\\n","stream":"stdout","time":"t"}\n{"log":"b');
    const first = readLogEntries(file);
    expect(first.entries.map((e) => e.log)).toEqual(["a\n"]);
    fs.appendFileSync(file, '\\n","stream":"stdout","time":"t"}\n');
    expect(readLogEntries(file, first.offset).entries.map((e) => e.log)).toEqual(["b\n"]);
    expect(readLogEntries(path.join(dir, "none.log"))).toEqual({ entries: [], offset: 0 });
  });
});
