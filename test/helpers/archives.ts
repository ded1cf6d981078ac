/**
 * Helpers for the save/load suites: craft tar archives entry by entry (including hostile
 * ones), read archives back, snapshot a store's visible state, and compare file trees.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readTar, TarWriter } from "@strata/core";
import { expect } from "vitest";
import { makeTempDir, type StrataCli } from "./strata.js";

/** One entry of a crafted archive. */
export interface CraftEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "link" | "char" | "block" | "fifo";
  body?: string | Buffer;
  linkname?: string;
  /** Size written in the header when it must lie about the body. */
  size?: number;
  /** Permission bits; 0755 for directories and 0644 for the rest by default. */
  mode?: number;
  /** Extended attributes, written as `SCHILY.xattr.` PAX records. */
  xattrs?: Record<string, string>;
  /** Device numbers of a char or block device; 1:3 (`/dev/null`) by default. */
  dev?: [number, number];
  /** Bytes spliced into the archive as they are, instead of an entry (see {@link rawHeader}). */
  raw?: Buffer;
}

/** A tar archive of `entries`, written with core's tar writer (names are not checked). */
export async function craftTar(entries: CraftEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const e of entries) parts.push(e.raw ?? (await craftEntry(e)));
  parts.push(Buffer.alloc(1024)); // end-of-archive marker
  return Buffer.concat(parts);
}

/** The bytes of one entry (headers, body, padding), without an end-of-archive marker. */
async function craftEntry(e: CraftEntry): Promise<Buffer> {
  const parts: Buffer[] = [];
  const tar = new TarWriter({
    async write(chunk) {
      parts.push(Buffer.from(chunk));
    },
  });
  const body = e.body === undefined ? undefined : Buffer.from(e.body);
  const type = e.type ?? "file";
  const device = type === "char" || type === "block";
  await tar.entry(
    {
      name: e.name,
      type,
      mode: e.mode ?? (type === "dir" ? 0o755 : 0o644),
      uid: 0,
      gid: 0,
      size: type === "file" ? (body?.length ?? 0) : 0,
      mtime: 0,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(device ? { devmajor: e.dev?.[0] ?? 1, devminor: e.dev?.[1] ?? 3 } : {}),
      ...(e.xattrs
        ? { xattrs: new Map(Object.entries(e.xattrs).map(([k, v]) => [k, Buffer.from(v)])) }
        : {}),
    },
    type === "file" ? body : undefined,
  );
  await tar.finish();
  const all = Buffer.concat(parts);
  return all.subarray(0, all.length - 1024);
}

/** Fields of a hand-made header block; everything not given is zero. */
export interface RawHeaderFields {
  name: string;
  /** The typeflag character: "0" file, "5" dir, "x" PAX, "L" GNU long name, ... */
  typeflag: string;
  size?: number;
  linkname?: string;
  mode?: number;
}

/**
 * One USTAR header block with a correct checksum, written byte by byte: for headers core's
 * writer would never produce (lying sizes, PAX and GNU long-name headers of any size).
 */
export function rawHeader(f: RawHeaderFields): Buffer {
  const b = Buffer.alloc(512);
  const octal = (off: number, len: number, v: number) =>
    b.write(`${v.toString(8).padStart(len - 1, "0")}\0`, off, len, "latin1");
  b.write(f.name, 0, 100, "utf8");
  octal(100, 8, f.mode ?? 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, f.size ?? 0);
  octal(136, 12, 0);
  b.write(f.typeflag, 156, 1, "latin1");
  if (f.linkname) b.write(f.linkname, 157, 100, "utf8");
  b.write("ustar\x0000", 257, 8, "latin1");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return b;
}

/** `body` followed by the zeros that bring it to a whole number of 512-byte blocks. */
export function padBlocks(body: Buffer): Buffer {
  const rest = body.length % 512;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(512 - rest)]);
}

/** A PAX extended header entry (`x`) carrying `records` as they are, for the next entry. */
export function paxHeader(records: Record<string, string | Buffer>): Buffer {
  const body = Buffer.concat(
    Object.entries(records).map(([k, v]) => {
      const value = Buffer.from(v);
      const rest = Buffer.byteLength(k) + value.length + 3;
      let len = rest + String(rest).length;
      if (String(len).length !== String(rest).length) len = rest + String(len).length;
      return Buffer.concat([Buffer.from(`${len} ${k}=`), value, Buffer.from("\n")]);
    }),
  );
  return Buffer.concat([
    rawHeader({ name: "PaxHeaders/x", typeflag: "x", size: body.length }),
    padBlocks(body),
  ]);
}

/** A GNU long-name (`L`) or long-link (`K`) entry naming the next entry. */
export function gnuLongHeader(type: "L" | "K", value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(value), Buffer.alloc(1)]);
  return Buffer.concat([
    rawHeader({ name: "././@LongLink", typeflag: type, size: body.length }),
    padBlocks(body),
  ]);
}

/** Every entry of a tar archive: name, type, link target and body. */
export async function readArchive(
  data: Buffer,
): Promise<{ name: string; type: string; linkname?: string; body: Buffer }[]> {
  const out: { name: string; type: string; linkname?: string; body: Buffer }[] = [];
  for await (const e of readTar(
    (async function* () {
      yield data;
    })(),
  )) {
    out.push({
      name: e.header.name,
      type: e.header.type,
      ...(e.header.linkname ? { linkname: e.header.linkname } : {}),
      body: await e.buffer(),
    });
  }
  return out;
}

/** `sha256:<hex>` of some bytes. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** What a store shows: its blob files, leftover ingest files, images with their tags. */
export interface StoreState {
  blobs: string[];
  ingest: string[];
  images: Record<string, string[]>;
}

/** The visible state of the store `cli` works on (one `images` call, a directory listing). */
export async function storeState(cli: StrataCli): Promise<StoreState> {
  const list = (d: string) => readdir(join(cli.root, d)).catch(() => [] as string[]);
  const rows = await cli.ok(
    "images",
    "-a",
    "--no-trunc",
    "--format",
    "{{.ID}} {{.Repository}}:{{.Tag}}",
  );
  const images: Record<string, string[]> = {};
  for (const row of rows.split("\n").filter((l) => l !== "")) {
    const [id, tag] = row.split(" ") as [string, string];
    images[id] ??= [];
    if (tag !== "<none>:<none>") images[id].push(tag);
  }
  for (const tags of Object.values(images)) tags.sort();
  return {
    blobs: (await list("content/blobs/sha256")).sort(),
    ingest: await list("content/ingest"),
    images,
  };
}

/** Expect a load of `archive` to fail with `message` and to leave the store as it was. */
export async function expectRefused(
  cli: StrataCli,
  archive: Buffer,
  message: RegExp,
): Promise<void> {
  const before = await storeState(cli);
  // From a file: a load that fails early stops reading, and a pipe would then break.
  const file = join(await makeTempDir("strata-archive-"), "archive.tar");
  await writeFile(file, archive);
  const r = await cli.run("load", "-i", file);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/^Error: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.code).toBe(1);
  expect(r.stdout).not.toMatch(/Loaded image/);
  expect(await storeState(cli)).toEqual({ ...before, ingest: [] });
}

/** One node of a file tree as {@link describeTree} records it. */
export type TreeNode =
  | { type: "dir"; mode: number }
  | { type: "file"; mode: number; sha: string }
  | { type: "symlink"; target: string };

/** Path → type, mode and content hash (or link target) of every node below `root`. */
export async function describeTree(root: string): Promise<Record<string, TreeNode>> {
  const out: Record<string, TreeNode> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, p));
      if (st.isSymbolicLink()) out[p] = { type: "symlink", target: await readlink(join(root, p)) };
      else if (st.isDirectory()) {
        out[p] = { type: "dir", mode: st.mode & 0o7777 };
        await walk(p);
      } else {
        out[p] = {
          type: "file",
          mode: st.mode & 0o7777,
          sha: sha256(await readFile(join(root, p))),
        };
      }
    }
  };
  await walk("");
  return out;
}
