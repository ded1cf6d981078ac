/**
 * The archive breakout cases, one table run against every path that extracts a tar: each
 * driver's differ (apply), `import`, `load` then `create`, and build's ADD of a local tar.
 *
 * Written anew from the case list of moby's `pkg/archive` tests (`TestUntarInvalidFilenames`,
 * `TestUntarInvalidHardlink`, `TestUntarInvalidSymlink`, `TestUntarHardlinkToSymlink`, the
 * `testBreakout` victim-directory pattern) plus whiteouts, devices, duplicates, oversized
 * headers and damaged streams. Every case gets the absolute path of a *victim* directory
 * lying outside the extraction target; entries aim at it with absolute paths and with
 * `../` chains long enough to reach `/` from any depth. The runner snapshots the victim
 * before and after ({@link snapshotVictim}) and expects it unchanged.
 */
import { lstat, mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readXattrs, writeXattr } from "@strata/core";
import {
  type CraftEntry,
  craftTar,
  gnuLongHeader,
  paxHeader,
  rawHeader,
  sha256,
} from "./archives.js";

/** What an extraction path must do with a case. */
export type BreakoutOutcome = "reject" | "accept" | "either";

/** One hostile archive and what must become of it. */
export interface BreakoutCase {
  /** What the archive tries (the test's name). */
  name: string;
  /** The moby test the case comes from, when it does. */
  moby?: string;
  /** The tar, given the victim directory's absolute path. */
  tar(victim: string): Promise<Buffer>;
  /**
   * `reject`: the path fails with a clear error (`error`); `accept`: it succeeds (what
   * docker extracts, made harmless); `either`: docker's outcome is not the point, only
   * that nothing outside changes.
   */
  outcome: BreakoutOutcome;
  /** The error a rejection carries (matched against the message or stderr). */
  error?: RegExp;
  /**
   * The outcome where the tar is a plain archive, not a layer (`cp`, build's ADD): there
   * `.wh.` names are ordinary files, as docker extracts them. Default: `outcome`.
   */
  plain?: BreakoutOutcome;
  /** A gzip-compressed blob rather than a plain tar (corrupt-stream cases). */
  gzip?: boolean;
  /**
   * Also run through the CLI paths (`import`, `load` + `create`): one case of each kind,
   * since every run there costs process starts; the differ paths take every case.
   */
  cli?: boolean;
}

/** `../` enough times to reach `/` from any target, then `abs` (an absolute path). */
export function upTo(abs: string): string {
  return `${"../".repeat(48)}${abs.replace(/^\/+/, "")}`;
}

const entries =
  (make: (victim: string) => CraftEntry[]) =>
  (victim: string): Promise<Buffer> =>
    craftTar(make(victim));

const DOTDOT = /"\.\." in path/;
const PARENT_SYMLINK = /parent "[^"]+" is a symlink/;
const NOT_A_FILE = /hardlink target "[^"]*" is not a file in the tree/;

/** The breakout cases (see the file comment). */
export const breakoutCases: readonly BreakoutCase[] = [
  // --- moby TestUntarInvalidFilenames
  {
    name: "a file named ../victim/dotdot",
    cli: true,
    moby: "TestUntarInvalidFilenames",
    tar: entries((v) => [{ name: `${upTo(v)}/dotdot`, body: "x" }]),
    outcome: "reject",
    error: DOTDOT,
  },
  {
    name: "a file named /../victim/slash-dotdot",
    moby: "TestUntarInvalidFilenames",
    tar: entries((v) => [{ name: `/${upTo(v)}/slash-dotdot`, body: "x" }]),
    outcome: "reject",
    error: DOTDOT,
  },
  {
    name: "a file under a .. that climbs back in (a/../../victim/x)",
    tar: entries((v) => [{ name: `a/../${upTo(v)}/x`, body: "x" }]),
    outcome: "reject",
    error: DOTDOT,
  },
  // --- moby TestUntarInvalidHardlink
  {
    name: "a hardlink to ../victim/hello",
    moby: "TestUntarInvalidHardlink",
    tar: entries((v) => [{ name: "dotdot", type: "link", linkname: `${upTo(v)}/hello` }]),
    outcome: "reject",
    error: DOTDOT,
  },
  {
    name: "a hardlink to /../victim/hello",
    moby: "TestUntarInvalidHardlink",
    tar: entries((v) => [{ name: "slash-dotdot", type: "link", linkname: `/${upTo(v)}/hello` }]),
    outcome: "reject",
  },
  {
    name: "a hardlink to the absolute path of victim/hello",
    cli: true,
    tar: entries((v) => [{ name: "abs", type: "link", linkname: `${v}/hello` }]),
    outcome: "reject",
    error: /absolute path/,
  },
  {
    name: "a hardlink to the victim directory, then a file written through it",
    moby: "TestUntarInvalidHardlink",
    tar: entries((v) => [
      { name: "loophole-victim", type: "link", linkname: upTo(v) },
      { name: "loophole-victim/file", body: "x" },
    ]),
    outcome: "reject",
  },
  {
    name: "a hardlink to the victim directory, then a symlink through it",
    moby: "TestUntarInvalidHardlink",
    tar: entries((v) => [
      { name: "loophole-victim", type: "link", linkname: upTo(v) },
      { name: "symlink", type: "symlink", linkname: "loophole-victim/hello" },
    ]),
    outcome: "reject",
  },
  {
    name: "a hardlink to the victim directory, then a hardlink through it",
    moby: "TestUntarInvalidHardlink",
    tar: entries((v) => [
      { name: "loophole-victim", type: "link", linkname: upTo(v) },
      { name: "hardlink", type: "link", linkname: "loophole-victim/hello" },
    ]),
    outcome: "reject",
  },
  {
    name: "a hardlink to the victim directory, then a file replacing it",
    moby: "TestUntarInvalidHardlink",
    tar: entries((v) => [
      { name: "loophole-victim", type: "link", linkname: upTo(v) },
      { name: "loophole-victim", body: "x" },
    ]),
    outcome: "reject",
  },
  // --- moby TestUntarInvalidSymlink
  {
    name: "a symlink to ../victim/hello (kept as a link, never followed)",
    cli: true,
    moby: "TestUntarInvalidSymlink",
    tar: entries((v) => [{ name: "dotdot", type: "symlink", linkname: `${upTo(v)}/hello` }]),
    outcome: "accept",
  },
  {
    name: "a symlink to /../victim/hello",
    moby: "TestUntarInvalidSymlink",
    tar: entries((v) => [{ name: "slash-dotdot", type: "symlink", linkname: `/${upTo(v)}/hello` }]),
    outcome: "accept",
  },
  {
    name: "a symlink to the victim directory, then a file written through it",
    cli: true,
    moby: "TestUntarInvalidSymlink",
    tar: entries((v) => [
      { name: "loophole-victim", type: "symlink", linkname: upTo(v) },
      { name: "loophole-victim/file", body: "x" },
    ]),
    outcome: "reject",
    error: PARENT_SYMLINK,
  },
  {
    name: "a symlink to the victim directory, then a symlink through it",
    moby: "TestUntarInvalidSymlink",
    tar: entries((v) => [
      { name: "loophole-victim", type: "symlink", linkname: upTo(v) },
      { name: "symlink", type: "symlink", linkname: "loophole-victim/hello" },
    ]),
    outcome: "accept",
  },
  {
    name: "a symlink to the victim directory, then a hardlink through it",
    moby: "TestUntarInvalidSymlink",
    tar: entries((v) => [
      { name: "loophole-victim", type: "symlink", linkname: upTo(v) },
      { name: "hardlink", type: "link", linkname: "loophole-victim/hello" },
    ]),
    outcome: "reject",
    error: PARENT_SYMLINK,
  },
  {
    name: "a symlink to the victim directory, then a file replacing the symlink",
    moby: "TestUntarInvalidSymlink",
    tar: entries((v) => [
      { name: "loophole-victim", type: "symlink", linkname: upTo(v) },
      { name: "loophole-victim", body: "x" },
    ]),
    outcome: "accept",
  },
  {
    name: "a symlink in a subdirectory, then a file in a new directory through it",
    moby: "TestUntarInvalidSymlink",
    tar: entries((v) => [
      { name: "dir/loophole", type: "symlink", linkname: upTo(v) },
      { name: "dir/loophole/newdir/newfile", body: "x" },
    ]),
    outcome: "reject",
    error: PARENT_SYMLINK,
  },
  {
    name: "an absolute symlink to the victim, then a directory through it",
    tar: entries((v) => [
      { name: "abs", type: "symlink", linkname: v },
      { name: "abs/newdir/", type: "dir" },
    ]),
    outcome: "reject",
    error: PARENT_SYMLINK,
  },
  {
    name: "an absolute symlink to the victim, then a device through it",
    tar: entries((v) => [
      { name: "abs", type: "symlink", linkname: v },
      { name: "abs/null", type: "char" },
    ]),
    outcome: "reject",
    error: PARENT_SYMLINK,
  },
  {
    name: "a symlink with an xattr (set on the link, never on its target)",
    tar: entries((v) => [
      {
        name: "xlink",
        type: "symlink",
        linkname: `${v}/hello`,
        xattrs: { "trusted.evil": "1" },
      },
    ]),
    outcome: "accept",
  },
  // --- moby TestUntarHardlinkToSymlink, and hostile variants of it
  {
    name: "a hardlink to a symlink that points outside (links the symlink itself)",
    moby: "TestUntarHardlinkToSymlink",
    tar: entries((v) => [
      { name: "symlink1", type: "symlink", linkname: `${v}/hello` },
      { name: "symlink2", type: "link", linkname: "symlink1" },
      { name: "regfile", body: "inside" },
    ]),
    outcome: "accept",
  },
  {
    name: "a hardlink to a symlink that points outside, then a file replacing the hardlink",
    cli: true,
    tar: entries((v) => [
      { name: "symlink1", type: "symlink", linkname: `${v}/hello` },
      { name: "symlink2", type: "link", linkname: "symlink1" },
      { name: "symlink2", body: "overwritten?" },
    ]),
    outcome: "accept",
  },
  {
    name: "a hardlink to a symlink to the victim directory, then a file through the hardlink",
    tar: entries((v) => [
      { name: "symlink1", type: "symlink", linkname: v },
      { name: "symlink2", type: "link", linkname: "symlink1" },
      { name: "symlink2/file", body: "x" },
    ]),
    outcome: "reject",
    error: PARENT_SYMLINK,
  },
  {
    name: "a hardlink to the tree's root",
    tar: entries(() => [{ name: "root", type: "link", linkname: "./" }]),
    outcome: "reject",
    error: NOT_A_FILE,
  },
  {
    name: "a hardlink to a directory inside",
    tar: entries(() => [
      { name: "d/", type: "dir" },
      { name: "hd", type: "link", linkname: "d" },
    ]),
    outcome: "reject",
    error: NOT_A_FILE,
  },
  // --- the tree's root
  {
    name: "the root entry as a symlink to the victim",
    tar: entries((v) => [
      { name: "./", type: "symlink", linkname: v },
      { name: "file", body: "x" },
    ]),
    outcome: "reject",
    error: /root is not a directory/,
  },
  // --- directories replaced by symlinks after the fact (mode and times set last)
  {
    name: "directories whose parent is then replaced by a symlink to the victim",
    cli: true,
    tar: entries((v) => [
      { name: "a/", type: "dir" },
      { name: "a/sub/", type: "dir", mode: 0o777 },
      { name: "a", type: "symlink", linkname: v },
    ]),
    outcome: "accept",
  },
  // --- whiteouts
  {
    name: "a whiteout of .. (.wh..)",
    plain: "accept",
    cli: true,
    tar: entries(() => [
      { name: "d/", type: "dir" },
      { name: "d/.wh..", body: "" },
    ]),
    outcome: "reject",
    error: /whiteout escapes its directory/,
  },
  {
    name: "a whiteout of .. at the root",
    plain: "accept",
    tar: entries(() => [{ name: ".wh..", body: "" }]),
    outcome: "reject",
    error: /whiteout escapes its directory/,
  },
  {
    name: "a whiteout with an empty name (.wh.)",
    plain: "accept",
    tar: entries(() => [{ name: "d/.wh.", body: "" }]),
    outcome: "reject",
    error: /whiteout escapes its directory/,
  },
  {
    name: "a whiteout of the victim's file through ../ (../.wh.hello)",
    tar: entries((v) => [{ name: `${upTo(v)}/.wh.hello`, body: "" }]),
    outcome: "reject",
    error: DOTDOT,
  },
  {
    name: "a whiteout of a whole directory through .. (.wh.../x)",
    tar: entries((v) => [{ name: `.wh../${upTo(v)}/sub`, body: "" }]),
    outcome: "reject",
    error: DOTDOT,
  },
  {
    name: "a whiteout below a symlink to the victim",
    tar: entries((v) => [
      { name: "loophole", type: "symlink", linkname: v },
      { name: "loophole/.wh.hello", body: "" },
    ]),
    outcome: "reject",
    error: PARENT_SYMLINK,
  },
  {
    name: "an opaque marker below a symlink to the victim",
    cli: true,
    tar: entries((v) => [
      { name: "loophole", type: "symlink", linkname: v },
      { name: "loophole/.wh..wh..opq", body: "" },
    ]),
    outcome: "reject",
    error: PARENT_SYMLINK,
  },
  {
    name: "a whiteout of a symlink to the victim (removes the link only)",
    tar: entries((v) => [
      { name: "loophole", type: "symlink", linkname: v },
      { name: ".wh.loophole", body: "" },
    ]),
    outcome: "accept",
  },
  {
    name: "opaque markers in odd places (root, missing dirs, as a directory, nested)",
    tar: entries(() => [
      { name: ".wh..wh..opq", body: "" },
      { name: "missing/deeper/.wh..wh..opq", body: "" },
      { name: "odd/", type: "dir" },
      { name: "odd/.wh..wh..opq/", type: "dir" },
      { name: "odd/.wh..wh..opq/.wh..wh..opq", body: "" },
      { name: ".wh..wh.plnk/x", body: "" },
    ]),
    outcome: "either",
  },
  // --- devices, fifos, duplicates
  {
    name: "device nodes and a fifo (a root layer may carry them, as docker's)",
    cli: true,
    tar: entries(() => [
      { name: "dev/", type: "dir" },
      { name: "dev/null", type: "char", dev: [1, 3] },
      { name: "dev/loop0", type: "block", dev: [7, 0] },
      { name: "dev/fifo", type: "fifo" },
    ]),
    outcome: "accept",
  },
  {
    name: "duplicate entries: file over file, dir over file, file over dir, link over file",
    cli: true,
    tar: entries((v) => [
      { name: "f", body: "one" },
      { name: "f", body: "two" },
      { name: "g", body: "file" },
      { name: "g/", type: "dir" },
      { name: "g/inner", body: "x" },
      { name: "g/sub/", type: "dir" },
      { name: "g", body: "file again" },
      { name: "h", body: "h" },
      { name: "h", type: "symlink", linkname: `${v}/hello` },
      { name: "h", body: "not through the link" },
    ]),
    outcome: "accept",
  },
  {
    name: "a hardlink to itself",
    tar: entries(() => [
      { name: "self", body: "x" },
      { name: "self", type: "link", linkname: "self" },
    ]),
    outcome: "either",
  },
  // --- sizes and damaged streams
  {
    name: "a PAX header larger than 8 MiB",
    cli: true,
    tar: async () =>
      craftTar([
        { name: "", raw: paxHeader({ comment: "x".repeat(9 * 1024 * 1024) }) },
        { name: "f", body: "x" },
      ]),
    outcome: "reject",
    error: /extended header too large/,
  },
  {
    name: "a GNU long name larger than 8 MiB",
    tar: async () =>
      craftTar([
        { name: "", raw: gnuLongHeader("L", "n".repeat(9 * 1024 * 1024)) },
        { name: "f", body: "x" },
      ]),
    outcome: "reject",
    error: /extended header too large/,
  },
  {
    name: "a PAX path through .. to the victim",
    tar: async (v) =>
      craftTar([
        { name: "", raw: paxHeader({ path: `${upTo(v)}/pax` }) },
        { name: "innocent", body: "x" },
      ]),
    outcome: "reject",
    error: DOTDOT,
  },
  {
    name: "a GNU long link naming the victim's file for a hardlink",
    tar: async (v) =>
      craftTar([
        { name: "", raw: gnuLongHeader("K", `${upTo(v)}/hello`) },
        { name: "", raw: rawHeader({ name: "gnu-hardlink", typeflag: "1" }) },
      ]),
    outcome: "reject",
    error: DOTDOT,
  },
  {
    name: "a name component longer than the filesystem allows",
    cli: true,
    tar: entries(() => [{ name: `${"n".repeat(300)}/f`, body: "x" }]),
    outcome: "reject",
    error: /name too long|too long/i,
  },
  {
    name: "a negative PAX size",
    cli: true,
    tar: async () =>
      craftTar([
        { name: "", raw: paxHeader({ size: "-1024" }) },
        { name: "f", body: "x".repeat(2048) },
        { name: "g", body: "y" },
      ]),
    outcome: "reject",
    error: /invalid PAX size/,
  },
  {
    name: "a body cut short (truncated archive)",
    cli: true,
    tar: async () => {
      const whole = await craftTar([
        { name: "a", body: "a" },
        { name: "big", body: Buffer.alloc(64 * 1024, 7) },
      ]);
      return whole.subarray(0, 512 * 2 + 512 + 20_000);
    },
    outcome: "reject",
    error: /truncated/,
  },
  {
    name: "a header cut short",
    tar: async () => (await craftTar([{ name: "a", body: "a" }])).subarray(0, 1024 + 100),
    outcome: "reject",
    error: /truncated/,
  },
  {
    name: "a header with a bad checksum",
    tar: async () => {
      const t = await craftTar([{ name: "a", body: "a" }]);
      t[10] = 0x41;
      return t;
    },
    outcome: "reject",
    error: /checksum/,
  },
  {
    name: "a corrupt gzip stream",
    cli: true,
    gzip: true,
    tar: async () => {
      const { gzipSync } = await import("node:zlib");
      const gz = gzipSync(await craftTar([{ name: "a", body: Buffer.alloc(200_000, 1) }]));
      for (let i = 40; i < 80; i++) gz[i] = 0xaa;
      return gz;
    },
    outcome: "reject",
    error: /gzip|invalid|incorrect|corrupt/i,
  },
  {
    name: "a truncated gzip stream",
    cli: true,
    gzip: true,
    tar: async () => {
      const { gzipSync } = await import("node:zlib");
      const gz = gzipSync(await craftTar([{ name: "a", body: Buffer.alloc(200_000, 1) }]));
      return gz.subarray(0, gz.length - 30);
    },
    outcome: "reject",
    error: /gzip|unexpected end|truncated/i,
  },
];

/** One node of the victim tree, with everything an escape could change. */
export interface VictimNode {
  type: string;
  mode: number;
  uid: number;
  nlink: number;
  mtimeMs: number;
  sha?: string;
  xattrs: Record<string, string>;
}

/**
 * Make the victim directory: `hello` (0644, a `user.` xattr), `sub/` (0755) holding `file`,
 * all with fixed mtimes, so that any write, chmod, utimes, link or xattr through an escape
 * shows in {@link snapshotVictim}.
 */
export async function makeVictim(dir: string): Promise<void> {
  await mkdir(join(dir, "sub"), { recursive: true, mode: 0o755 });
  await writeFile(join(dir, "hello"), "precious\n", { mode: 0o644 });
  await writeFile(join(dir, "sub/file"), "also precious\n", { mode: 0o644 });
  writeXattr(join(dir, "hello"), "user.victim", Buffer.from("1"));
  for (const p of ["hello", "sub/file", "sub", "."]) {
    await utimes(join(dir, p), 1_000_000_000, 1_000_000_000);
  }
}

/** Path → node of every entry of the victim directory, the directory itself included. */
export async function snapshotVictim(dir: string): Promise<Record<string, VictimNode>> {
  const out: Record<string, VictimNode> = {};
  const visit = async (rel: string) => {
    const p = rel === "." ? dir : join(dir, rel);
    const st = await lstat(p);
    const xattrs: Record<string, string> = {};
    for (const [k, v] of readXattrs(p) ?? []) xattrs[k] = v.toString("hex");
    out[rel] = {
      type: st.isDirectory()
        ? "dir"
        : st.isFile()
          ? "file"
          : st.isSymbolicLink()
            ? "link"
            : "other",
      mode: st.mode & 0o7777,
      uid: st.uid,
      nlink: st.nlink,
      mtimeMs: st.mtimeMs,
      ...(st.isFile() ? { sha: sha256(await readFile(p)) } : {}),
      xattrs,
    };
    if (st.isDirectory()) {
      for (const n of (await readdir(p)).sort()) await visit(rel === "." ? n : `${rel}/${n}`);
    }
  };
  await visit(".");
  return out;
}
