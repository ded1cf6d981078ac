import * as fs from "node:fs";
import * as path from "node:path";
import { Prng, SeededBytes } from "./random.js";

/** The change workloads, each applied on its own fresh container (a child of the base). */
export const WORKLOAD_IDS = [
  "small-files",
  "large-files",
  "deletions",
  "in-place",
  "renames",
  "ten-files",
  "container",
] as const;
/** One of {@link WORKLOAD_IDS}. */
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

/** How big each workload is. */
export interface WorkloadSizes {
  /** Files of the base image (plus about 1% symlinks). */
  baseFiles: number;
  /** Smallest and largest base file, bytes. */
  baseFileBytes: [number, number];
  /** New small files, and their size range in bytes. */
  smallFiles: number;
  smallFileBytes: [number, number];
  /** New large files, and the size of each in bytes. */
  largeFiles: number;
  largeFileBytes: number;
  /** Base files deleted. */
  deletions: number;
  /** Base files changed in place (512 bytes overwritten, size unchanged). */
  inPlace: number;
  /** Base leaf directories renamed (50 files each). */
  renamedDirs: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The sizes of a full run (issue 3 and issue 10's workloads). */
export const FULL_SIZES: WorkloadSizes = {
  baseFiles: 20_000,
  baseFileBytes: [512, 8 * KiB],
  smallFiles: 10_000,
  smallFileBytes: [1 * KiB, 4 * KiB],
  largeFiles: 20,
  largeFileBytes: 16 * MiB,
  deletions: 1_000,
  inPlace: 100,
  renamedDirs: 10,
};

/** The sizes of `--quick`: every code path, a few seconds. */
export const QUICK_SIZES: WorkloadSizes = {
  baseFiles: 600,
  baseFileBytes: [512, 8 * KiB],
  smallFiles: 200,
  smallFileBytes: [1 * KiB, 4 * KiB],
  largeFiles: 2,
  largeFileBytes: 1 * MiB,
  deletions: 50,
  inPlace: 10,
  renamedDirs: 2,
};

/** One filesystem operation of a workload; paths are relative to the tree's root. */
export type Op =
  | { op: "mkdir"; path: string }
  | { op: "write"; path: string; size: number; stream: number }
  | { op: "symlink"; path: string; target: string }
  | { op: "remove"; path: string }
  | { op: "patch"; path: string; offset: number; size: number; stream: number }
  | { op: "rename"; from: string; to: string };

/** A deterministic list of operations and the mtime everything it touches ends up with. */
export interface Workload {
  id: WorkloadId | "base";
  /** What it does, in a few words, for the report. */
  title: string;
  ops: Op[];
  /** Seconds since the epoch given to every file written and every directory touched. */
  mtime: number;
}

/** The base image and the change workloads generated from one seed. */
export interface WorkloadSet {
  seed: number;
  sizes: WorkloadSizes;
  base: Workload;
  changes: Map<WorkloadId, Workload>;
}

/** Files of the base image get 2024-01-01T00:00:00Z, changes a day later. */
const BASE_MTIME = 1_704_067_200;
const CHANGE_MTIME = BASE_MTIME + 86_400;
const FILES_PER_BASE_DIR = 50;
const FILES_PER_SMALL_DIR = 100;

/**
 * Generate the base image (about `sizes.baseFiles` files in `img/tNN/lNNN/` leaf
 * directories of 50) and every change workload from `seed`. Nothing touches the disk
 * here: {@link materialize} plays a workload onto a tree.
 */
export function generateWorkloads(seed: number, sizes: WorkloadSizes): WorkloadSet {
  const rnd = (stream: number) => new Prng(seed, stream);
  // Content stream ids: a block of 2^24 per workload, so no two files share bytes.
  const streams = (block: number, i: number) => block * 2 ** 24 + i;

  const base: Op[] = [];
  const baseFiles: { path: string; size: number }[] = [];
  const leaves: string[] = [];
  {
    const r = rnd(0);
    const leafCount = Math.ceil(sizes.baseFiles / FILES_PER_BASE_DIR);
    const perTop = Math.ceil(Math.sqrt(leafCount));
    base.push({ op: "mkdir", path: "img" });
    for (let leaf = 0, file = 0; leaf < leafCount; leaf++) {
      const top = `img/t${pad(Math.floor(leaf / perTop), 2)}`;
      if (leaf % perTop === 0) base.push({ op: "mkdir", path: top });
      const dir = `${top}/l${pad(leaf, 3)}`;
      base.push({ op: "mkdir", path: dir });
      leaves.push(dir);
      for (let k = 0; k < FILES_PER_BASE_DIR && file < sizes.baseFiles; k++, file++) {
        const p = `${dir}/f${pad(k, 2)}.bin`;
        const size = r.int(...sizes.baseFileBytes);
        base.push({ op: "write", path: p, size, stream: streams(0, file) });
        baseFiles.push({ path: p, size });
        // About 1% symlinks, as images have: to a sibling, relative.
        if (k > 0 && r.next() < 0.02) {
          base.push({
            op: "symlink",
            path: `${dir}/s${pad(k, 2)}`,
            target: `f${pad(k - 1, 2)}.bin`,
          });
        }
      }
    }
  }

  const changes = new Map<WorkloadId, Workload>();
  const add = (id: WorkloadId, title: string, ops: Op[]) =>
    changes.set(id, { id, title, ops, mtime: CHANGE_MTIME });

  {
    const r = rnd(1);
    const ops: Op[] = [
      { op: "mkdir", path: "app" },
      { op: "mkdir", path: "app/small" },
    ];
    const leafCount = Math.ceil(sizes.smallFiles / FILES_PER_SMALL_DIR);
    const perTop = Math.ceil(Math.sqrt(leafCount));
    for (let leaf = 0, file = 0; leaf < leafCount; leaf++) {
      const top = `app/small/d${pad(Math.floor(leaf / perTop), 2)}`;
      if (leaf % perTop === 0) ops.push({ op: "mkdir", path: top });
      const dir = `${top}/d${pad(leaf, 3)}`;
      ops.push({ op: "mkdir", path: dir });
      for (let k = 0; k < FILES_PER_SMALL_DIR && file < sizes.smallFiles; k++, file++) {
        const size = r.int(...sizes.smallFileBytes);
        ops.push({ op: "write", path: `${dir}/f${pad(k, 2)}`, size, stream: streams(1, file) });
      }
    }
    add(
      "small-files",
      `${fmtCount(sizes.smallFiles)} new files of ${kib(sizes.smallFileBytes)}`,
      ops,
    );
  }
  {
    const ops: Op[] = [
      { op: "mkdir", path: "app" },
      { op: "mkdir", path: "app/large" },
    ];
    for (let i = 0; i < sizes.largeFiles; i++) {
      ops.push({
        op: "write",
        path: `app/large/blob${pad(i, 2)}.bin`,
        size: sizes.largeFileBytes,
        stream: streams(2, i),
      });
    }
    const each = `${sizes.largeFileBytes / MiB} MiB`;
    add("large-files", `${sizes.largeFiles} new files of ${each}`, ops);
  }
  const gone = rnd(3).pick(baseFiles, sizes.deletions);
  add(
    "deletions",
    `${fmtCount(gone.length)} base files deleted`,
    gone.map((f) => ({ op: "remove", path: f.path })),
  );
  add(
    "in-place",
    `${fmtCount(sizes.inPlace)} base files changed in place`,
    patches(rnd(4), baseFiles, sizes.inPlace, 4),
  );
  {
    const dirs = rnd(5).pick(leaves, sizes.renamedDirs);
    const moved = dirs.length * FILES_PER_BASE_DIR;
    add(
      "renames",
      `${dirs.length} directories renamed (${fmtCount(moved)} files)`,
      dirs.map((d) => ({ op: "rename", from: d, to: `${d}-renamed` })),
    );
  }
  {
    // The proportionality case: 4 files added, 4 changed, 2 deleted on the whole base.
    const r = rnd(6);
    const picked = r.pick(baseFiles, 6);
    const ops: Op[] = [
      { op: "mkdir", path: "app" },
      { op: "mkdir", path: "app/ten" },
    ];
    for (let i = 0; i < 4; i++) {
      ops.push({
        op: "write",
        path: `app/ten/f${i}`,
        size: r.int(1 * KiB, 4 * KiB),
        stream: streams(6, i),
      });
    }
    ops.push(...patches(r, picked.slice(0, 4), 4, 7));
    for (const f of picked.slice(4)) ops.push({ op: "remove", path: f.path });
    add(
      "ten-files",
      `10 files (4 added, 4 changed, 2 deleted) on ${fmtCount(baseFiles.length)}`,
      ops,
    );
  }

  {
    // Issue 4's container: the small and large files written, the deletions made, and 100
    // base files changed in place (chosen among the files it keeps), in one change.
    const small = changes.get("small-files")!.ops;
    const large = changes
      .get("large-files")!
      .ops.filter((o) => !(o.op === "mkdir" && o.path === "app"));
    const deleted = new Set(gone.map((f) => f.path));
    const kept = baseFiles.filter((f) => !deleted.has(f.path));
    const ops: Op[] = [
      ...small,
      ...large,
      ...changes.get("deletions")!.ops,
      ...patches(rnd(8), kept, sizes.inPlace, 8),
    ];
    add(
      "container",
      `small and large files, deletions and in-place changes together (issue 4)`,
      ops,
    );
  }

  return {
    seed,
    sizes,
    base: {
      id: "base",
      title: `${fmtCount(baseFiles.length)} files in ${leaves.length} directories`,
      ops: base,
      mtime: BASE_MTIME,
    },
    changes,
  };

  function patches(
    r: Prng,
    files: readonly { path: string; size: number }[],
    n: number,
    block: number,
  ): Op[] {
    return r.pick(files, n).map((f, i) => {
      const size = Math.min(512, f.size);
      return {
        op: "patch",
        path: f.path,
        offset: r.int(0, f.size - size),
        size,
        stream: streams(block, i),
      };
    });
  }
}

/** What {@link materialize} wrote. */
export interface MaterializeResult {
  /** Regular files written or changed. */
  files: number;
  /** Bytes written into them. */
  bytes: number;
}

/**
 * Play `workload` onto the tree at `dir` with ordinary filesystem calls, as a process in a
 * container would, then give every file written and every directory touched the
 * workload's mtime, so the same seed yields the same layer bytes. A directory rename that
 * the filesystem refuses with EXDEV (overlayfs without `redirect_dir`, for a directory
 * from a lower layer) is done as `mv` does it: copy, then delete.
 */
export function materialize(dir: string, workload: Workload, seed: number): MaterializeResult {
  const bytes = new SeededBytes(seed);
  const touched = new Set<string>();
  const abs = (rel: string) => path.join(dir, rel);
  const touchParent = (rel: string) => {
    const parent = path.posix.dirname(rel);
    if (parent !== ".") touched.add(parent);
  };
  const old = process.umask(0o022);
  const out: MaterializeResult = { files: 0, bytes: 0 };
  try {
    for (const op of workload.ops) {
      switch (op.op) {
        case "mkdir":
          fs.mkdirSync(abs(op.path), { mode: 0o755 });
          touched.add(op.path);
          touchParent(op.path);
          break;
        case "write": {
          const fd = fs.openSync(abs(op.path), "wx", 0o644);
          try {
            for (const chunk of bytes.chunks(op.stream, op.size)) writeAll(fd, chunk);
            fs.futimesSync(fd, workload.mtime, workload.mtime);
          } finally {
            fs.closeSync(fd);
          }
          out.files++;
          out.bytes += op.size;
          touchParent(op.path);
          break;
        }
        case "symlink":
          fs.symlinkSync(op.target, abs(op.path));
          fs.lutimesSync(abs(op.path), workload.mtime, workload.mtime);
          touchParent(op.path);
          break;
        case "remove":
          fs.rmSync(abs(op.path), { recursive: true });
          touchParent(op.path);
          break;
        case "patch": {
          const fd = fs.openSync(abs(op.path), "r+");
          try {
            const data = bytes.bytes(op.stream, op.size);
            let off = 0;
            while (off < data.length)
              off += fs.writeSync(fd, data, off, data.length - off, op.offset + off);
            fs.futimesSync(fd, workload.mtime, workload.mtime);
          } finally {
            fs.closeSync(fd);
          }
          out.files++;
          out.bytes += op.size;
          break;
        }
        case "rename":
          try {
            fs.renameSync(abs(op.from), abs(op.to));
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
            copyTreeSync(abs(op.from), abs(op.to));
            fs.rmSync(abs(op.from), { recursive: true });
          }
          touched.add(op.to);
          touchParent(op.from);
          touchParent(op.to);
          break;
      }
    }
    for (const d of touched) {
      if (fs.existsSync(abs(d))) fs.utimesSync(abs(d), workload.mtime, workload.mtime);
    }
  } finally {
    process.umask(old);
  }
  return out;
}

/** Copy a tree of directories, files and symlinks with their modes and times (`cp -a`). */
function copyTreeSync(from: string, to: string): void {
  const st = fs.lstatSync(from);
  if (st.isDirectory()) {
    fs.mkdirSync(to);
    for (const name of fs.readdirSync(from))
      copyTreeSync(path.join(from, name), path.join(to, name));
    fs.chmodSync(to, st.mode & 0o7777);
  } else if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(from), to);
  } else {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, st.mode & 0o7777);
  }
  fs.lutimesSync(to, st.atime, st.mtime);
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function fmtCount(n: number): string {
  return n.toLocaleString("en-US");
}

function kib([min, max]: [number, number]): string {
  return `${min / KiB}–${max / KiB} KiB`;
}
