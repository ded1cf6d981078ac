import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanupTemp, memorySink, tempDir } from "../diff/test-support/trees.js";
import { readFileChunks } from "./read-file-chunks.js";
import type { TarHeader } from "./tar-header.js";
import { readTar } from "./tar-reader.js";
import { TarWriter } from "./tar-writer.js";

afterEach(cleanupTemp);

async function fileOf(bytes: Buffer): Promise<string> {
  const p = path.join(await tempDir(), "blob");
  fs.writeFileSync(p, bytes);
  return p;
}

/** Every entry of `source` with a copy of its body (read with `buffer()` or `chunks()`). */
async function entries(
  source: AsyncIterable<Uint8Array>,
  byChunks: boolean,
): Promise<{ header: TarHeader; body: Buffer }[]> {
  const out: { header: TarHeader; body: Buffer }[] = [];
  for await (const e of readTar(source)) {
    let body: Buffer;
    if (byChunks) {
      const parts: Buffer[] = [];
      for await (const c of e.chunks(300)) parts.push(Buffer.from(c));
      body = Buffer.concat(parts);
    } else {
      body = Buffer.from(await e.buffer());
    }
    out.push({ header: e.header, body });
  }
  return out;
}

describe("readFileChunks", () => {
  it("reads a file from its offset to its end into two buffers in turn", async () => {
    const bytes = randomBytes(10_000);
    const fd = fs.openSync(await fileOf(bytes), "r");
    try {
      fs.readSync(fd, Buffer.alloc(1000), 0, 1000, null); // start at offset 1000
      const copies: Buffer[] = [];
      const arrays = new Set<ArrayBufferLike>();
      for await (const c of readFileChunks(fd, { chunkSize: 4096 })) {
        expect(c.length).toBeLessThanOrEqual(4096);
        arrays.add(c.buffer);
        copies.push(Buffer.from(c));
      }
      expect(copies.map((c) => c.length)).toEqual([4096, 4096, 808]);
      expect(arrays.size).toBe(2);
      expect(Buffer.concat(copies).equals(bytes.subarray(1000))).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
  });

  it("waits for the read in flight when the consumer stops early", async () => {
    const bytes = randomBytes(64 << 10);
    const fd = fs.openSync(await fileOf(bytes), "r");
    try {
      for await (const c of readFileChunks(fd, { chunkSize: 1000 })) {
        expect(c.equals(bytes.subarray(0, 1000))).toBe(true);
        break;
      }
      // The prefetched second chunk was read before the generator returned: the offset
      // moved by exactly two chunks, and nothing reads from fd any more.
      const next = Buffer.alloc(10);
      fs.readSync(fd, next, 0, 10, null);
      expect(next.equals(bytes.subarray(2000, 2010))).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
  });

  it("feeds the tar reader: headers, PAX records and bodies spanning reused chunks come out whole", async () => {
    const sink = memorySink();
    const w = new TarWriter(sink);
    const base = { type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 } as const;
    const bodies = [randomBytes(5000), randomBytes(1), randomBytes(70_000)];
    await w.entry({ ...base, name: "dir/", type: "dir", mode: 0o755, size: 0 });
    await w.entry({ ...base, name: `dir/${"long".repeat(40)}`, size: 5000 }, bodies[0]);
    await w.entry(
      {
        ...base,
        name: "dir/x",
        size: 1,
        xattrs: new Map([["user.note", Buffer.from("kept across chunks".repeat(20))]]),
      },
      bodies[1],
    );
    await w.entry({ ...base, name: "dir/big", size: 70_000 }, bodies[2]);
    await w.finish();
    const tar = sink.bytes();
    const p = await fileOf(tar);

    const whole = await entries(
      (async function* () {
        yield tar;
      })(),
      false,
    );
    expect(whole.map((e) => e.header.name)).toEqual([
      "dir/",
      `dir/${"long".repeat(40)}`,
      "dir/x",
      "dir/big",
    ]);
    expect(whole[2]?.header.xattrs?.get("user.note")?.toString()).toBe(
      "kept across chunks".repeat(20),
    );
    // Odd chunk sizes put header blocks, PAX records and bodies across chunk boundaries.
    for (const chunkSize of [100, 513, 4099]) {
      for (const byChunks of [false, true]) {
        const fd = fs.openSync(p, "r");
        try {
          const got = await entries(readFileChunks(fd, { chunkSize }), byChunks);
          expect(got, `chunks of ${chunkSize}`).toEqual(whole);
        } finally {
          fs.closeSync(fd);
        }
      }
    }
    expect(whole.slice(1).map((e) => e.body)).toEqual(bodies);
  });
});
