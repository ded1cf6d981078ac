import * as fs from "node:fs/promises";
import * as path from "node:path";
import { setAttribute } from "@napi-rs/xattr";
import { run } from "../util/exec.js";

/** Fixed mtime of fixture files: 2001-09-09T01:46:40Z (whole seconds survive tar). */
export const FIXTURE_MTIME = 1_000_000_000;

interface Common {
  /** Path relative to the tree root, `/`-separated. */
  path: string;
  uid?: number;
  gid?: number;
  /** Extended attributes to set (values as text or bytes). */
  xattrs?: Record<string, string | Uint8Array>;
}

/**
 * One entry the kit writes into a tree. Entries are applied in order, so parents come
 * first and a hardlink's target before the link.
 */
export type FixtureEntry =
  | (Common & { type: "dir"; mode: number })
  | (Common & { type: "file"; mode: number; content: string | Uint8Array; mtime?: number })
  | (Common & { type: "symlink"; target: string })
  | { type: "hardlink"; path: string; target: string }
  | (Common & { type: "fifo"; mode: number })
  | (Common & { type: "char" | "block"; mode: number; major: number; minor: number });

/**
 * Write `entries` under `dir` (which exists): create each, then chown, chmod (after chown,
 * which clears setuid), set xattrs, and finally set every non-directory's mtime to
 * {@link FIXTURE_MTIME} (or the entry's own). Needs root for owners, devices and
 * `trusted.*` xattrs.
 * @throws Error from the first operation that fails; the tree is then half-written.
 */
export async function applyFixture(dir: string, entries: readonly FixtureEntry[]): Promise<void> {
  const times: Array<[string, number]> = [];
  for (const e of entries) {
    const abs = path.join(dir, e.path);
    switch (e.type) {
      case "dir":
        await fs.mkdir(abs).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== "EEXIST" || !(await fs.lstat(abs)).isDirectory()) throw err;
        });
        break;
      case "file":
        await fs.writeFile(abs, e.content);
        times.push([abs, e.mtime ?? FIXTURE_MTIME]);
        break;
      case "symlink":
        await fs.symlink(e.target, abs);
        break;
      case "hardlink":
        await fs.link(path.join(dir, e.target), abs);
        continue;
      case "fifo":
        await run("mkfifo", [abs]);
        times.push([abs, FIXTURE_MTIME]);
        break;
      case "char":
      case "block":
        await run("mknod", [abs, e.type === "char" ? "c" : "b", String(e.major), String(e.minor)]);
        times.push([abs, FIXTURE_MTIME]);
        break;
    }
    if (e.uid !== undefined || e.gid !== undefined) await fs.lchown(abs, e.uid ?? 0, e.gid ?? 0);
    if (e.type !== "symlink") await fs.chmod(abs, e.mode);
    for (const [name, value] of Object.entries(e.xattrs ?? {})) {
      await setAttribute(abs, name, Buffer.from(value));
    }
  }
  for (const [abs, secs] of times) await fs.utimes(abs, secs, secs);
}

/** Deterministic pseudo-random bytes (xorshift), so fixtures are the same on every run. */
export function patternBytes(size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

const LONG_DIR = `long/${"d".repeat(90)}/${"e".repeat(90)}`;

/**
 * The base layer every content case starts from: odd modes (sticky 1777, setuid 4755,
 * setgid 2755, 0222, 0000), owners (1:2 and others), relative, absolute and dangling
 * symlinks, hardlinks within and across directories, `user.*` and `trusted.*` xattrs
 * (one binary), a fifo, a character and a block device, an empty file, a 256 KiB file,
 * names with spaces and non-ASCII letters, and a path longer than 256 bytes.
 */
export const BASE_LAYER: readonly FixtureEntry[] = [
  { type: "dir", path: "bin", mode: 0o755 },
  { type: "file", path: "bin/sh", mode: 0o755, content: "#!/bin/sh\necho strata\n" },
  { type: "hardlink", path: "bin/ash", target: "bin/sh" },
  { type: "dir", path: "tmp", mode: 0o1777 },
  { type: "dir", path: "usr", mode: 0o755 },
  { type: "dir", path: "usr/bin", mode: 0o755 },
  { type: "file", path: "usr/bin/passwd", mode: 0o4755, content: "setuid\n" },
  { type: "file", path: "usr/bin/wall", mode: 0o2755, gid: 5, content: "setgid\n" },
  { type: "hardlink", path: "usr/bin/sh", target: "bin/sh" },
  { type: "dir", path: "usr/lib", mode: 0o755 },
  { type: "file", path: "usr/lib/libbig.so.1", mode: 0o644, content: patternBytes(256 * 1024) },
  { type: "symlink", path: "usr/lib/libbig.so", target: "libbig.so.1" },
  { type: "symlink", path: "lib", target: "usr/lib" },
  { type: "dir", path: "etc", mode: 0o755 },
  { type: "file", path: "etc/shadow", mode: 0o640, gid: 42, content: "root:*:1::::::\n" },
  { type: "file", path: "etc/write-only", mode: 0o222, content: "w\n" },
  { type: "file", path: "etc/no-access", mode: 0o000, content: "" },
  { type: "symlink", path: "etc/mtab", target: "/proc/self/mounts" },
  { type: "symlink", path: "etc/dangling", target: "../nowhere/at/all" },
  { type: "dir", path: "home", mode: 0o755 },
  { type: "dir", path: "home/user", mode: 0o700, uid: 1, gid: 2 },
  { type: "file", path: "home/user/.profile", mode: 0o644, uid: 1, gid: 2, content: "PS1='$ '\n" },
  { type: "file", path: "home/user/empty", mode: 0o600, uid: 1, gid: 2, content: "" },
  { type: "symlink", path: "home/user/link", uid: 1, gid: 2, target: ".profile" },
  {
    type: "dir",
    path: "data",
    mode: 0o755,
    xattrs: { "user.dir": "yes", "trusted.strata.dir": "t" },
  },
  {
    type: "file",
    path: "data/x",
    mode: 0o644,
    content: "xattrs\n",
    xattrs: {
      "user.mime_type": "text/plain",
      "user.binary": new Uint8Array([0, 1, 0xff, 0x80]),
      "trusted.strata.file": "t",
    },
  },
  { type: "symlink", path: "data/x-link", target: "x", xattrs: { "trusted.strata.link": "l" } },
  { type: "dir", path: "dev", mode: 0o755 },
  { type: "char", path: "dev/null", mode: 0o666, major: 1, minor: 3 },
  { type: "block", path: "dev/loop9", mode: 0o660, gid: 6, major: 7, minor: 9 },
  { type: "dir", path: "run", mode: 0o755 },
  { type: "fifo", path: "run/initctl", mode: 0o600, uid: 1, gid: 2 },
  { type: "dir", path: "with space", mode: 0o755 },
  { type: "file", path: "with space/ünïcødé – file", mode: 0o644, content: "names\n" },
  { type: "dir", path: "long", mode: 0o755 },
  { type: "dir", path: LONG_DIR.split("/").slice(0, 2).join("/"), mode: 0o755 },
  { type: "dir", path: LONG_DIR, mode: 0o755 },
  { type: "file", path: `${LONG_DIR}/${"f".repeat(100)}`, mode: 0o644, content: "long\n" },
];

/** A small text-file fixture: `{ path: content }` as 0644 files (parents as 0755 dirs). */
export function filesFixture(files: Record<string, string>): FixtureEntry[] {
  const out: FixtureEntry[] = [];
  const dirs = new Set<string>();
  for (const [p, content] of Object.entries(files)) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!dirs.has(d)) out.push({ type: "dir", path: d, mode: 0o755 });
      dirs.add(d);
    }
    out.push({ type: "file", path: p, mode: 0o644, content });
  }
  return out;
}
