import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ProgressBoard } from "./progress-board.js";

function sink(columns?: number) {
  let text = "";
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as Writable & { columns?: number };
  if (columns !== undefined) out.columns = columns;
  return { out, text: () => text };
}

describe("ProgressBoard", () => {
  it("prints plain lines off a terminal and leaves out byte counts, as docker", () => {
    const s = sink();
    const board = new ProgressBoard(s.out, false);
    board.write({ status: "latest: Pulling from library/busybox" });
    board.write({ id: "a3ed95caeb02", status: "Pulling fs layer" });
    board.write({ id: "a3ed95caeb02", status: "Downloading", current: 10, total: 100 });
    board.write({ id: "a3ed95caeb02", status: "Download complete" });
    expect(s.text()).toBe(
      "latest: Pulling from library/busybox\na3ed95caeb02: Pulling fs layer\na3ed95caeb02: Download complete\n",
    );
  });

  it("keeps one line per id on a terminal and redraws it in place with a bar", () => {
    const s = sink(120);
    const board = new ProgressBoard(s.out, true);
    board.write({ status: "latest: Pulling from library/busybox" });
    board.write({ id: "aaa", status: "Pulling fs layer" });
    board.write({ id: "bbb", status: "Pulling fs layer" });
    board.write({ id: "aaa", status: "Downloading", current: 1_200_000, total: 3_400_000 });
    board.write({ status: "Digest: sha256:x" });
    const text = s.text();
    expect(
      text.startsWith(
        "latest: Pulling from library/busybox\n\n\x1b[1A\x1b[2K\raaa: Pulling fs layer\r\x1b[1B",
      ),
    ).toBe(true);
    // The first id's line is two lines up once the second one is there.
    expect(text).toContain(
      "\x1b[2A\x1b[2K\raaa: Downloading [=================>                                 ]    1.2MB/3.4MB\r\x1b[2B",
    );
    expect(text.endsWith("Digest: sha256:x\n")).toBe(true);
  });

  it("drops the bar on a narrow terminal", () => {
    const s = sink(80);
    const board = new ProgressBoard(s.out, true);
    board.write({ id: "aaa", status: "Downloading", current: 5, total: 10 });
    expect(s.text()).toContain("aaa: Downloading       5B/10B\r");
  });
});
