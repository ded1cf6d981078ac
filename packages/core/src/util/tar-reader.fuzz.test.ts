import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StrataError } from "../errors.js";
import { fuzzParams } from "./fuzz-support.js";
import { BLOCK, type TarHeader } from "./tar-header.js";
import { readTar } from "./tar-reader.js";
import { TarWriter } from "./tar-writer.js";

/**
 * Fixed seed, so a failure is reproducible (STRATA_FUZZ_SEED explores others); runs sized
 * to keep each property near a second.
 */
const params = fuzzParams(1500);

/** What reading a whole stream gave: every entry's header and body, or a typed error. */
type Outcome = { entries: { header: TarHeader; body: Buffer }[] } | { error: string };

/** Read `data` fed in the given chunk sizes (cycled), bodies included. */
async function readAll(data: Buffer, chunkSizes: number[] = [data.length || 1]): Promise<Outcome> {
  async function* source(): AsyncGenerator<Uint8Array> {
    let off = 0;
    for (let i = 0; off < data.length; i++) {
      const n = Math.max(1, chunkSizes[i % chunkSizes.length]!);
      yield data.subarray(off, off + n);
      off += n;
    }
  }
  const entries: { header: TarHeader; body: Buffer }[] = [];
  try {
    for await (const e of readTar(source())) {
      // Small bodies in one piece, the others in chunks: both read paths get exercised.
      let body: Buffer;
      if (e.header.size < 700) body = await e.buffer();
      else {
        const chunks: Buffer[] = [];
        for await (const c of e.chunks(333)) chunks.push(c);
        body = Buffer.concat(chunks);
      }
      entries.push({ header: e.header, body });
    }
  } catch (err) {
    if (err instanceof StrataError) return { error: err.message };
    throw err;
  }
  return { entries };
}

/** A valid archive with every feature the reader decodes, and where its headers start. */
async function sampleArchive(): Promise<{ data: Buffer; headers: number[] }> {
  const parts: Buffer[] = [];
  const headers: number[] = [];
  let size = 0;
  const w = new TarWriter({
    async write(c) {
      parts.push(Buffer.from(c));
      size += c.length;
    },
  });
  const entry = async (h: Partial<TarHeader> & { name: string }, body?: Buffer) => {
    await w.entry(
      { type: "file", mode: 0o644, uid: 0, gid: 0, size: body?.length ?? 0, mtime: 1, ...h },
      body,
    );
    headers.push(size); // filled in below, once the writer has flushed
  };
  await entry({ name: "dir/", type: "dir", mode: 0o755 });
  await entry({ name: "dir/file", mtime: 1.5 }, Buffer.from("hello\n"));
  await entry({ name: `long/${"n".repeat(150)}/deep/${"m".repeat(120)}` }, Buffer.alloc(1000, 1));
  await entry({ name: "dir/link", type: "symlink", linkname: "x".repeat(200) });
  await entry({ name: "dir/hard", type: "link", linkname: "dir/file" });
  await entry(
    { name: "dir/attrs", xattrs: new Map([["user.a", Buffer.from([0, 255, 10])]]), uid: 1 << 22 },
    Buffer.from("x"),
  );
  await entry({ name: "dev/null", type: "char", devmajor: 1, devminor: 3 });
  await entry({ name: "fifo", type: "fifo" });
  await w.finish();
  const data = Buffer.concat(parts);
  // Header offsets: every block whose checksum field reads as octal is a header.
  const offsets: number[] = [];
  for (let off = 0; off + BLOCK <= data.length; off += BLOCK) {
    if (/^[0-7]{6}\0 $/.test(data.toString("latin1", off + 148, off + 156))) offsets.push(off);
  }
  return { data, headers: offsets };
}

/** Set a header block's checksum right, so that a mutated header is parsed, not refused. */
function fixChecksum(data: Buffer, off: number): void {
  data.fill(0x20, off + 148, off + 156);
  let sum = 0;
  for (let i = off; i < off + BLOCK; i++) sum += data[i]!;
  data.write(`${sum.toString(8).padStart(6, "0")}\0 `, off + 148, 8, "latin1");
}

describe("readTar limits", () => {
  it("refuses global PAX headers that add up past 8 MiB, each under the limit", async () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const value = "v".repeat(3 * 1024 * 1024);
      const rest = `k${i}=${value}\n`;
      let len = rest.length + 1 + String(rest.length).length;
      if (String(len).length !== String(rest.length + 1).length) len += 1;
      const body = Buffer.from(`${len} ${rest}`);
      const head = Buffer.alloc(BLOCK);
      head.write("global", 0);
      head.write("0000644\0", 100, "latin1");
      head.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124, "latin1");
      head.write("g", 156, "latin1");
      head.write("ustar\x0000", 257, "latin1");
      fixChecksum(head, 0);
      parts.push(head, body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
    }
    const r = await readAll(Buffer.concat([...parts, (await sampleArchive()).data]));
    expect(r).toEqual({ error: "tar: global extended headers too large" });
  });
});

describe("readTar (fuzzed)", () => {
  it("reads a valid archive the same whatever the chunking", async () => {
    const { data } = await sampleArchive();
    const whole = await readAll(data);
    expect("entries" in whole && whole.entries.length).toBe(8);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1 }), async (c) => {
        expect(await readAll(data, c)).toEqual(whole);
      }),
      { ...params, numRuns: 300 },
    );
  });

  it("reads random bytes with typed errors only", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3 * BLOCK }), async (bytes) => {
        await readAll(Buffer.from(bytes));
      }),
      params,
    );
  });

  it("reads archives with mutated headers (checksums fixed) with typed errors only", async () => {
    const { data, headers } = await sampleArchive();
    const interesting = [0, 100, 124, 135, 136, 156, 157, 257, 263, 329, 337, 345, 499];
    const mutation = fc.record({
      header: fc.integer({ min: 0, max: headers.length - 1 }),
      at: fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: 0, max: BLOCK - 1 })),
      bytes: fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 12 }),
        fc.constantFrom(
          ...["\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", "\xff", "77777777777", " 1 "].map(
            (s) => Buffer.from(s, "latin1"),
          ),
          ...["x", "L", "K", "g", "1", "2", "5", "7", "S", "\0"].map((s) => Buffer.from(s)),
        ),
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 0, max: data.length })),
        async (mutations, cut) => {
          const copy = Buffer.from(data);
          for (const m of mutations) {
            const off = headers[m.header]!;
            copy.set(m.bytes.subarray(0, BLOCK - m.at), off + m.at);
            if (m.at < 148 || m.at >= 156) fixChecksum(copy, off);
          }
          await readAll(cut === null ? copy : copy.subarray(0, cut), [512, 1, 4096]);
        },
      ),
      params,
    );
  });

  it("reads PAX records of any content with typed errors only", async () => {
    const record = fc
      .tuple(
        fc.constantFrom(
          "path",
          "linkpath",
          "size",
          "uid",
          "gid",
          "mtime",
          "atime",
          "SCHILY.xattr.user.x",
          "x",
        ),
        fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.constantFrom("-1", "1e400", "0x10", "9007199254740993", "1.5", "", " 7", "NaN"),
        ),
      )
      .map(([k, v]) => {
        const rest = Buffer.byteLength(k) + Buffer.byteLength(v) + 3;
        let len = rest + String(rest).length;
        if (String(len).length !== String(rest).length) len = rest + String(len).length;
        return `${len} ${k}=${v}\n`;
      });
    const body = fc.oneof(
      fc.array(record, { maxLength: 4 }).map((r) => r.join("")),
      fc.string({ maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom("x", "g"), async (text, flag) => {
        const pax = Buffer.from(text);
        const head = Buffer.alloc(BLOCK);
        head.write("PaxHeaders/f", 0);
        head.write("0000644\0", 100, "latin1");
        head.write(`${pax.length.toString(8).padStart(11, "0")}\0`, 124, "latin1");
        head.write(flag, 156, "latin1");
        head.write("ustar\x0000", 257, "latin1");
        fixChecksum(head, 0);
        const padded = Buffer.concat([pax, Buffer.alloc((BLOCK - (pax.length % BLOCK)) % BLOCK)]);
        const { data } = await sampleArchive();
        await readAll(Buffer.concat([head, padded, data]));
      }),
      { ...params, numRuns: 1000 },
    );
  });
});
