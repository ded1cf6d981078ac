import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HashPipe } from "./hash-pipe.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-hash-pipe-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** `data` cut into pieces of the given sizes, in turn, until it is used up. */
function pieces(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(data.subarray(off, off + n));
    off += n;
  }
  return out;
}

function open(fd?: number): HashPipe {
  const pipe = HashPipe.open(fd);
  if (!pipe) throw new Error("no hash worker free");
  return pipe;
}

describe("HashPipe", () => {
  it("hashes and writes bytes in any chunking, across many ring turns", async () => {
    // 11 MiB: more than the ring holds, in pieces smaller than, equal to and larger than
    // a slot, empty ones included.
    const data = randomBytes(11 << 20);
    const file = path.join(dir, "blob");
    const fd = fs.openSync(file, "w");
    try {
      const pipe = open(fd);
      for (const p of pieces(data, [1, 0, 4095, 1 << 20, (3 << 20) + 7, 65536])) {
        await pipe.write(p);
      }
      expect(await pipe.finish()).toEqual({ digest: sha(data), bytes: data.length });
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(file).equals(data)).toBe(true);
  });

  it("hashes without a file, and hashes nothing to the empty digest", async () => {
    const pipe = open();
    expect(await pipe.finish()).toEqual({ digest: sha(Buffer.alloc(0)), bytes: 0 });
    const data = randomBytes(300_000);
    const again = open();
    await again.write(data);
    expect((await again.finish()).digest).toBe(sha(data));
  });

  it("runs as many pipes at once as there are cores, then says none is free", async () => {
    const pipes: HashPipe[] = [];
    for (;;) {
      const p = HashPipe.open();
      if (!p) break;
      pipes.push(p);
      if (pipes.length > os.availableParallelism()) break;
    }
    expect(pipes.length).toBe(Math.max(1, os.availableParallelism()));
    // Each hashes its own bytes, fed in interleaved order.
    const datas = pipes.map(() => randomBytes(3 << 20));
    for (let off = 0; off < 3 << 20; off += 1 << 19) {
      for (const [i, p] of pipes.entries()) await p.write(datas[i]!.subarray(off, off + (1 << 19)));
    }
    const digests = await Promise.all(pipes.map((p) => p.finish()));
    expect(digests.map((d) => d.digest)).toEqual(datas.map(sha));
    // Finished pipes gave their workers back.
    const next = open();
    await next.abort();
  });

  it("reports a write error from the worker and frees the worker", async () => {
    const file = path.join(dir, "read-only");
    fs.writeFileSync(file, "");
    const fd = fs.openSync(file, "r"); // writes to it fail with EBADF
    try {
      const pipe = open(fd);
      const fed = (async () => {
        for (let i = 0; i < 40; i++) await pipe.write(Buffer.alloc(1 << 20, i));
        return pipe.finish();
      })();
      await expect(fed).rejects.toMatchObject({ code: "EBADF" });
    } finally {
      fs.closeSync(fd);
    }
    const data = randomBytes(1000);
    const pipe = open();
    await pipe.write(data);
    expect((await pipe.finish()).digest).toBe(sha(data));
  });

  it("aborts mid-blob without writing the rest, and the worker takes the next job", async () => {
    const file = path.join(dir, "aborted");
    const fd = fs.openSync(file, "w");
    try {
      const pipe = open(fd);
      await pipe.write(Buffer.alloc(5 << 20, 1));
      await pipe.abort();
      await pipe.abort(); // idempotent
      await expect(pipe.write(Buffer.alloc(1))).rejects.toThrow("write after close");
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.statSync(file).size).toBeLessThanOrEqual(5 << 20);
    const again = open();
    await again.write(Buffer.from("x"));
    expect((await again.finish()).digest).toBe(sha(Buffer.from("x")));
  });

  it("warm starts a worker ahead of a job, and never more than the pool holds", async () => {
    for (let i = 0; i < 5; i++) HashPipe.warm();
    const pipes: HashPipe[] = [];
    for (let p = HashPipe.open(); p; p = HashPipe.open()) pipes.push(p);
    expect(pipes.length).toBe(Math.max(1, os.availableParallelism()));
    HashPipe.warm(); // all busy: nothing to start
    expect(HashPipe.open()).toBeUndefined();
    await Promise.all(pipes.map((p) => p.abort()));
  });
});
