import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  cleanupTemp,
  gnuTarList,
  listWithTarStream,
  memorySink,
  put,
  setXattr,
  skipWithoutRoot,
  tempDir,
} from "../diff/test-support/trees.js";
import { BLOCK, encodeTarHeader, type TarHeader } from "./tar-header.js";
import { readTar } from "./tar-reader.js";
import { TarWriter } from "./tar-writer.js";

const CAP = Buffer.from("0100000200200000000000000000000000000000", "hex"); // cap_net_raw+ep
const BINARY = Buffer.from([0, 1, 0xff, 0xfe, 0x0a, 0x3d, 0x20, 0x80]);

async function writeTar(entries: [TarHeader, Buffer?][]): Promise<Buffer> {
  const sink = memorySink();
  const w = new TarWriter(sink);
  for (const [h, body] of entries) await w.entry(h, body);
  await w.finish();
  return sink.bytes();
}

async function readAll(tar: Buffer): Promise<{ header: TarHeader; body: Buffer }[]> {
  const out: { header: TarHeader; body: Buffer }[] = [];
  // Feed in odd-sized chunks to exercise block reassembly.
  async function* chunks() {
    for (let i = 0; i < tar.length; i += 777) yield tar.subarray(i, i + 777);
  }
  for await (const e of readTar(chunks())) out.push({ header: e.header, body: await e.buffer() });
  return out;
}

function file(name: string, extra: Partial<TarHeader> = {}): TarHeader {
  return {
    name,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1_700_000_000,
    ...extra,
  };
}

afterEach(cleanupTemp);

describe("tar codec", () => {
  it("writes USTAR headers GNU tar and tar-stream read back, ending in two zero blocks", async () => {
    const tar = await writeTar([
      [{ ...file("etc/"), type: "dir", mode: 0o755 }],
      [file("etc/passwd", { size: 5, uid: 1, gid: 2, mode: 0o4755 }), Buffer.from("root\n")],
      [{ ...file("etc/link"), type: "symlink", linkname: "passwd", mode: 0o777 }],
      [{ ...file("dev/null"), type: "char", devmajor: 1, devminor: 3, mode: 0o666 }],
    ]);
    expect(tar.length % BLOCK).toBe(0);
    expect(tar.subarray(tar.length - 2 * BLOCK).equals(Buffer.alloc(2 * BLOCK))).toBe(true);
    expect(gnuTarList(tar)).toEqual([
      expect.stringMatching(/^drwxr-xr-x 0\/0 +0 2023-11-1\d \d\d:\d\d etc\/$/),
      expect.stringMatching(/^-rwsr-xr-x 1\/2 +5 .* etc\/passwd$/),
      expect.stringMatching(/^lrwxrwxrwx 0\/0 +0 .* etc\/link -> passwd$/),
      expect.stringMatching(/^crw-rw-rw- 0\/0 +1,3 .* dev\/null$/),
    ]);
    const listed = await listWithTarStream(tar);
    expect(listed.map((e) => [e.name, e.type])).toEqual([
      ["etc/", "directory"],
      ["etc/passwd", "file"],
      ["etc/link", "symlink"],
      ["dev/null", "character-device"],
    ]);
    expect(listed[1]!.body?.toString()).toBe("root\n");
  });

  it("splits names up to 255 bytes into prefix and name, and uses PAX beyond or for non-ASCII", async () => {
    const mid = `${"d".repeat(120)}/${"f".repeat(90)}`;
    const long = `${"a/".repeat(150)}file`;
    const uni = "ünïcödé/日本語.txt";
    const longTarget = `../${"t".repeat(150)}`;
    const tar = await writeTar([
      [file(mid)],
      [file(long)],
      [file(uni)],
      [{ ...file("s"), type: "symlink", linkname: longTarget }],
    ]);
    const names = (await readAll(tar)).map((e) => e.header.name);
    expect(names).toEqual([mid, long, uni, "s"]);
    const listed = await listWithTarStream(tar);
    expect(listed.map((e) => e.name)).toEqual([mid, long, uni, "s"]);
    expect(listed[3]!.linkname).toBe(longTarget);
    expect(gnuTarList(tar).map((l) => l.split(/ +/).slice(5).join(" "))).toEqual([
      mid,
      long,
      uni,
      `s -> ${longTarget}`,
    ]);
    // the 255-byte name needs no PAX header: exactly one header block, no body
    expect(encodeTarHeader(file(mid)).length).toBe(BLOCK);
    expect(encodeTarHeader(file(long)).length).toBeGreaterThan(BLOCK);
  });

  it("keeps binary xattr values byte-exact (tar-stream would not) and GNU tar extracts them", async () => {
    const xattrs = new Map([
      ["user.bin", BINARY],
      ["user.text", Buffer.from("hello=world\n")],
    ]);
    const tar = await writeTar([[file("f", { size: 1, xattrs }), Buffer.from("x")]]);
    const [e] = await readAll(tar);
    expect([...(e!.header.xattrs ?? [])]).toEqual([...xattrs]);
    expect(e!.body.toString()).toBe("x");

    const dir = await tempDir();
    execFileSync("tar", ["--xattrs", "--xattrs-include=*", "-xf", "-", "-C", dir], { input: tar });
    const got = execFileSync("getfattr", ["-e", "hex", "-d", path.join(dir, "f")], {
      stdio: ["ignore", "pipe", "ignore"],
    }).toString();
    expect(got).toContain(`user.bin=0x${BINARY.toString("hex")}`);
    expect(got).toContain(`user.text=0x${Buffer.from("hello=world\n").toString("hex")}`);
  });

  it.skipIf(skipWithoutRoot)(
    "reads what GNU tar writes: PAX xattrs incl. security.capability, long names, hardlinks (root)",
    async () => {
      const src = await tempDir();
      const long = `${"x".repeat(60)}/${"y".repeat(60)}/${"z".repeat(150)}`;
      const f = await put(src, "bin/ping", "ping", { mode: 0o755 });
      setXattr(f, "security.capability", CAP);
      setXattr(f, "trusted.t", BINARY);
      await put(src, long, "long");
      await fs.link(f, path.join(src, "bin/ping2"));
      for (const format of ["pax", "gnu"]) {
        const tar = execFileSync("tar", [
          `--format=${format}`,
          "--xattrs",
          "--xattrs-include=*",
          "--sort=name",
          "-C",
          src,
          "-cf",
          "-",
          "bin",
          "x".repeat(60),
        ]);
        const entries = await readAll(tar);
        const byName = new Map(entries.map((e) => [e.header.name.replace(/\/$/, ""), e]));
        expect(byName.get("bin/ping")?.body.toString()).toBe("ping");
        if (format === "pax") {
          expect(byName.get("bin/ping")?.header.xattrs?.get("security.capability")).toEqual(CAP);
          expect(byName.get("bin/ping")?.header.xattrs?.get("trusted.t")).toEqual(BINARY);
        }
        expect(byName.get("bin/ping2")?.header).toMatchObject({
          type: "link",
          linkname: "bin/ping",
        });
        expect(byName.get(long)?.body.toString()).toBe("long");
      }
    },
  );

  it("rejects corrupt headers and truncated bodies", async () => {
    const tar = await writeTar([[file("f", { size: 600 }), Buffer.alloc(600, 1)]]);
    const bad = Buffer.from(tar);
    bad[10] = 0x41; // name byte changes: checksum no longer matches
    await expect(readAll(bad)).rejects.toThrow(/checksum/);
    await expect(readAll(tar.subarray(0, BLOCK + 100))).rejects.toThrow(/truncated/);
    // Ending inside the last body's padding is truncation too.
    await expect(readAll(tar.subarray(0, BLOCK + 600 + 10))).rejects.toThrow(/truncated/);
  });

  it("accepts a stream that ends right after the last body, as Go's reader (and umoci's layers)", async () => {
    const tar = await writeTar([
      [file("a", { size: 3 }), Buffer.from("abc")],
      [file("b", { size: 18 }), Buffer.from("small first layer\n")],
    ]);
    // What umoci 0.4.7 writes: no padding after the last body and no end marker.
    const cut = tar.subarray(0, 3 * BLOCK + 18);
    const entries = await readAll(cut);
    expect(entries.map((e) => [e.header.name, e.body.toString()])).toEqual([
      ["a", "abc"],
      ["b", "small first layer\n"],
    ]);
  });

  it("uses PAX records for ids and sizes beyond the octal fields", async () => {
    const big = 3_000_000; // > 0o7777777
    const tar = await writeTar([[file("f", { uid: big, gid: big + 1 })]]);
    const [e] = await readAll(tar);
    expect(e!.header).toMatchObject({ uid: big, gid: big + 1 });
    expect(gnuTarList(tar)[0]).toContain(`${big}/${big + 1}`);
  });
});
