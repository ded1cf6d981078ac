import { Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ByteProgress } from "./byte-progress.js";

function sink(columns = 120) {
  let text = "";
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as Writable & { columns?: number };
  out.columns = columns;
  return { out, text: () => text };
}

const LABEL = "Sending build context to Docker daemon";

afterEach(() => {
  vi.useRealTimers();
});

describe("ByteProgress", () => {
  it("redraws one line in place on a terminal, at most ten times a second", () => {
    vi.useFakeTimers();
    const s = sink();
    const p = new ByteProgress(s.out, { label: LABEL, tty: true });
    p.update(1000);
    p.update(1500); // within 100 ms: not drawn
    vi.advanceTimersByTime(150);
    p.update(2048);
    p.done();
    expect(s.text()).toBe(
      `\r\x1b[2K${LABEL}      1kB\r\x1b[2K${LABEL}  2.048kB\r\x1b[2K${LABEL}  2.048kB\n`,
    );
  });

  it("draws a bar when the total is known", () => {
    const s = sink();
    const p = new ByteProgress(s.out, { label: "Extracting", tty: true });
    p.update(1_200_000, 3_400_000);
    expect(s.text()).toBe(
      "\r\x1b[2KExtracting [=================>                                 ]    1.2MB/3.4MB",
    );
  });

  it("prints only the final line off a terminal, as a log wants it", () => {
    const s = sink();
    const p = new ByteProgress(s.out, { label: LABEL, tty: false });
    for (let n = 1; n <= 5; n++) p.update(n * 1_000_000);
    p.done();
    p.done();
    expect(s.text()).toBe(`${LABEL}      5MB\n`);
  });

  it("erases a transient line when done, and prints nothing of it off a terminal", () => {
    const t = sink();
    const onTty = new ByteProgress(t.out, {
      label: "Committing layer",
      tty: true,
      transient: true,
    });
    onTty.update(42_000_000);
    onTty.done();
    expect(t.text()).toBe("\r\x1b[2KCommitting layer     42MB\r\x1b[2K");
    const p = sink();
    const piped = new ByteProgress(p.out, {
      label: "Committing layer",
      tty: false,
      transient: true,
    });
    piped.update(42_000_000);
    piped.done();
    expect(p.text()).toBe("");
  });

  it("tracks a stream's bytes and finishes at its end", async () => {
    const s = sink();
    const p = new ByteProgress(s.out, { label: LABEL, tty: false });
    async function* source() {
      yield Buffer.alloc(1500);
      yield new Uint8Array(548);
    }
    const seen: number[] = [];
    for await (const chunk of p.track(source())) seen.push(chunk.length);
    expect(seen).toEqual([1500, 548]);
    expect(s.text()).toBe(`${LABEL}  2.048kB\n`);
  });

  it("shows nothing with quiet", () => {
    const s = sink();
    const p = new ByteProgress(s.out, { label: LABEL, tty: true, quiet: true });
    p.update(10);
    p.done();
    expect(s.text()).toBe("");
  });
});
