import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { statsOf } from "./measure.js";
import type { Row } from "./results.js";
import { compared, push, type RunContext, row } from "./run-context.js";
import { type UnionFs, type UnionLayers, UnionMounter } from "./unions.js";

/** How much each mounted-filesystem measurement does. */
export interface MountedSizes {
  /** Bytes written into one new file, then fsynced. */
  writeBytes: number;
  /** Files created in a new directory. */
  creates: number;
  /** Files of the lower layer unlinked (each leaves a whiteout in the upper). */
  unlinks: number;
  /** Chain depths measured. */
  depths: number[];
  /** Files looked up in the bottom layer of each chain. */
  lookups: number;
}

/** Full-run sizes. */
export const MOUNTED_FULL: MountedSizes = {
  writeBytes: 128 * 2 ** 20,
  creates: 1000,
  unlinks: 1000,
  depths: [1, 10, 100],
  lookups: 2000,
};

/** `--quick` sizes: every path, a second or two. */
export const MOUNTED_QUICK: MountedSizes = {
  writeBytes: 4 * 2 ** 20,
  creates: 100,
  unlinks: 50,
  depths: [1, 10, 100],
  lookups: 100,
};

/** The operations measured on every union, in the order they run on one fresh mount. */
const OPS = ["mount", "read", "stat", "readdir", "unlink", "create", "write"] as const;
type Op = (typeof OPS)[number];

/** What the floor of each operation is (the same calls on the plain lower directory). */
const FLOOR_NAMES: Record<Exclude<Op, "mount">, string> = {
  read: "cat",
  stat: "lstat",
  readdir: "readdir",
  unlink: "unlink",
  create: "create",
  write: "write + fsync",
};

/**
 * Measure mounted union filesystems over the same layers: kernel overlay, strata's aufs
 * (served by its FUSE helper process) and fuse-overlayfs. The image is two read-only
 * layers, `large` (the large files) over `base` (the base image's files), with an empty
 * upper. Each sample mounts every filesystem afresh (in turn, so slow drift of the machine
 * spreads evenly), then on that mount: mount time; `cat` of the large files to /dev/null
 * (sequential reads); `lstat` of every base file (first lookups); `readdir` of every base
 * directory; unlink of lower files (whiteouts); creation of empty files in a new
 * directory; one large file written and fsynced. The floors are the same calls on the
 * plain directories underneath, in the same sample.
 *
 * Caches: the lower files are in the page cache for every filesystem and floor alike (the
 * run has just written them, and `cat` reads them once before measuring); a fresh mount
 * starts with empty FUSE and dentry caches of its own. So reads compare each union's path
 * to already-cached data, warm, which is what a container rereading its image sees.
 *
 * Then the deep chains: 1, 10 and 100 layers, lookups of files that only the bottom layer
 * holds, in a directory every layer has, so each lookup passes every layer above; with
 * their mount times.
 */
export async function mountedPhase(
  ctx: RunContext,
  available: readonly UnionFs[],
  layers: { base: string; large: string },
  sizes: MountedSizes,
  samples: number,
): Promise<void> {
  const root = path.join(ctx.scratch, "mounted");
  fs.mkdirSync(root, { recursive: true });
  const mounter = new UnionMounter(path.join(root, "aufs-run"));
  try {
    await opsMeasurements(ctx, mounter, root, available, layers, sizes, samples);
    await chainMeasurements(ctx, mounter, root, available, sizes, samples);
  } finally {
    await mounter.unmountAll();
  }
}

function listFiles(dir: string, rel = ""): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [rel || "."];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const sub = listFiles(dir, p);
      files.push(...sub.files);
      dirs.push(...sub.dirs);
    } else files.push(p);
  }
  return { files, dirs };
}

function runCat(files: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", 'cat "$@" >/dev/null', "cat", ...files], {
      stdio: "ignore",
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`cat: exit ${code}`))));
  });
}

function seconds(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

async function secondsAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** The operations of one sample on the tree at `dir` (a union, or the plain floor). */
async function runOps(
  dir: string,
  tree: { base: string; large: string },
  lists: { baseFiles: string[]; baseDirs: string[]; largeFiles: string[] },
  sizes: MountedSizes,
  tag: string,
  out: Map<Op, number[]>,
  floor: boolean,
): Promise<void> {
  const at = (which: "base" | "large", rel: string) =>
    floor ? path.join(tree[which], rel) : path.join(dir, rel);
  const record = (op: Op, s: number) => {
    out.set(op, [...(out.get(op) ?? []), s]);
  };
  record("read", await secondsAsync(() => runCat(lists.largeFiles.map((f) => at("large", f)))));
  record(
    "stat",
    seconds(() => {
      for (const f of lists.baseFiles) fs.lstatSync(at("base", f));
    }),
  );
  record(
    "readdir",
    seconds(() => {
      for (const d of lists.baseDirs) fs.readdirSync(at("base", d));
    }),
  );
  // The floor unlinks plain files made for it (the lower layer itself must stay whole).
  const victims = lists.baseFiles.slice(0, sizes.unlinks);
  let unlinkDir = "";
  if (floor) {
    unlinkDir = path.join(dir, `unlink-${tag}`);
    fs.mkdirSync(unlinkDir);
    for (let i = 0; i < victims.length; i++) fs.writeFileSync(path.join(unlinkDir, `u${i}`), "");
  }
  record(
    "unlink",
    seconds(() => {
      if (floor)
        for (let i = 0; i < victims.length; i++) fs.unlinkSync(path.join(unlinkDir, `u${i}`));
      else for (const f of victims) fs.unlinkSync(path.join(dir, f));
    }),
  );
  const created = path.join(dir, `created-${tag}`);
  record(
    "create",
    seconds(() => {
      fs.mkdirSync(created);
      for (let i = 0; i < sizes.creates; i++)
        fs.closeSync(fs.openSync(path.join(created, `c${i}`), "wx"));
    }),
  );
  const chunk = Buffer.alloc(2 ** 20, 0x5a);
  record(
    "write",
    seconds(() => {
      const fd = fs.openSync(path.join(dir, `written-${tag}.bin`), "wx");
      try {
        for (let done = 0; done < sizes.writeBytes; done += chunk.length) {
          let off = 0;
          const n = Math.min(chunk.length, sizes.writeBytes - done);
          while (off < n) off += fs.writeSync(fd, chunk, off, n - off);
        }
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }),
  );
}

async function opsMeasurements(
  ctx: RunContext,
  mounter: UnionMounter,
  root: string,
  available: readonly UnionFs[],
  layers: { base: string; large: string },
  sizes: MountedSizes,
  samples: number,
): Promise<void> {
  const base = listFiles(layers.base);
  const large = listFiles(layers.large);
  const lists = { baseFiles: base.files, baseDirs: base.dirs, largeFiles: large.files };
  const largeBytes = large.files.reduce(
    (n, f) => n + fs.statSync(path.join(layers.large, f)).size,
    0,
  );
  await runCat(large.files.map((f) => path.join(layers.large, f))); // into the page cache
  const times = new Map<string, Map<Op, number[]>>();
  const series = (who: string) => {
    if (!times.has(who)) times.set(who, new Map());
    return times.get(who)!;
  };
  // Each sample starts with the next one in turn (the floor included), so that none is
  // always measured right after the others' writeback.
  const order: (UnionFs | "plain")[] = [...available, "plain"];
  for (let i = 0; i < samples; i++) {
    ctx.log(`mounted filesystems: sample ${i + 1} of ${samples}`);
    const turn = [...order.slice(i % order.length), ...order.slice(0, i % order.length)];
    for (const kind of turn) {
      if (kind === "plain") {
        const plain = path.join(root, `plain-${i}`);
        fs.mkdirSync(plain);
        await runOps(plain, layers, lists, sizes, String(i), series("plain"), true);
        continue;
      }
      const dir = path.join(root, `${kind}-${i}`);
      const un: UnionLayers = {
        lowers: [layers.large, layers.base],
        upper: path.join(dir, "upper"),
        work: path.join(dir, "work"),
      };
      const target = path.join(dir, "mnt");
      for (const d of [un.upper, un.work, target]) fs.mkdirSync(d, { recursive: true });
      const s = series(kind);
      s.set("mount", [
        ...(s.get("mount") ?? []),
        await secondsAsync(() => mounter.mount(kind, un, target)),
      ]);
      try {
        await runOps(target, layers, lists, sizes, String(i), s, false);
      } finally {
        await mounter.unmount(target);
      }
    }
  }

  const dims = (op: Op) => {
    switch (op) {
      case "read":
        return { size: largeBytes, entries: lists.largeFiles.length };
      case "write":
        return { size: sizes.writeBytes, entries: 1 };
      case "stat":
        return { size: 0, entries: lists.baseFiles.length };
      case "readdir":
        return { size: 0, entries: lists.baseDirs.length };
      case "unlink":
        return { size: 0, entries: Math.min(sizes.unlinks, lists.baseFiles.length) };
      case "create":
        return { size: 0, entries: sizes.creates };
      case "mount":
        return { size: 0, entries: 1 };
    }
  };
  for (const op of OPS) {
    const floorSamples = times.get("plain")?.get(op);
    const floor =
      op === "mount" || !floorSamples
        ? undefined
        : row(
            "mount",
            op,
            "plain directory",
            FLOOR_NAMES[op],
            true,
            dims(op),
            statsOf(floorSamples),
          );
    for (const kind of available) {
      const r: Row = row(
        "mount",
        op,
        kind,
        "union",
        false,
        dims(op),
        statsOf(series(kind).get(op)!),
      );
      push(ctx, floor ? compared(r, floor.stats) : r);
    }
    if (floor) push(ctx, floor);
  }
}

/**
 * The chain layers: `B` holds `d/b0000…` (the files looked up), `F00…` one file each in
 * `d/`; a chain of depth N is `F00…F(N-2)` over `B`.
 */
function makeChain(root: string, sizes: MountedSizes): { bottom: string; fillers: string[] } {
  const dir = path.join(root, "chain");
  const bottom = path.join(dir, "B");
  fs.mkdirSync(path.join(bottom, "d"), { recursive: true });
  for (let i = 0; i < sizes.lookups; i++) {
    fs.writeFileSync(path.join(bottom, "d", `b${String(i).padStart(5, "0")}`), "b");
  }
  const fillers: string[] = [];
  const most = Math.max(...sizes.depths) - 1;
  for (let k = 0; k < most; k++) {
    const f = path.join(dir, `F${String(k).padStart(2, "0")}`);
    fs.mkdirSync(path.join(f, "d"), { recursive: true });
    fs.writeFileSync(path.join(f, "d", `f${k}`), "f");
    fillers.push(f);
  }
  return { bottom, fillers };
}

async function chainMeasurements(
  ctx: RunContext,
  mounter: UnionMounter,
  root: string,
  available: readonly UnionFs[],
  sizes: MountedSizes,
  samples: number,
): Promise<void> {
  const { bottom, fillers } = makeChain(root, sizes);
  const names = Array.from({ length: sizes.lookups }, (_, i) => `d/b${String(i).padStart(5, "0")}`);
  const lookupAll = (dir: string) => () => {
    for (const n of names) fs.lstatSync(path.join(dir, n));
  };
  const floorSamples: number[] = [];
  for (let i = 0; i < samples; i++) floorSamples.push(seconds(lookupAll(bottom)));
  const floor = statsOf(floorSamples);
  const lookups = { size: 0, entries: sizes.lookups };
  for (const depth of sizes.depths) {
    ctx.log(`deep chain: ${depth} layers`);
    const lowers = [...fillers.slice(0, depth - 1), bottom];
    const mountTimes = new Map<UnionFs, number[]>();
    const lookupTimes = new Map<UnionFs, number[]>();
    for (let i = 0; i < samples; i++) {
      for (const kind of available) {
        const dir = path.join(root, `chain-${kind}-${depth}-${i}`);
        const un: UnionLayers = {
          lowers,
          upper: path.join(dir, "upper"),
          work: path.join(dir, "work"),
        };
        const target = path.join(dir, "mnt");
        for (const d of [un.upper, un.work, target]) fs.mkdirSync(d, { recursive: true });
        const m = await secondsAsync(() => mounter.mount(kind, un, target));
        mountTimes.set(kind, [...(mountTimes.get(kind) ?? []), m]);
        try {
          const l = seconds(lookupAll(target));
          lookupTimes.set(kind, [...(lookupTimes.get(kind) ?? []), l]);
        } finally {
          await mounter.unmount(target);
        }
      }
    }
    for (const kind of available) {
      const label = `${depth} layer${depth === 1 ? "" : "s"}`;
      push(
        ctx,
        row(
          "chain",
          `mount, ${label}`,
          kind,
          "union",
          false,
          { size: 0, entries: 1 },
          statsOf(mountTimes.get(kind)!),
        ),
      );
      push(
        ctx,
        compared(
          row(
            "chain",
            `lookup, ${label}`,
            kind,
            "union",
            false,
            lookups,
            statsOf(lookupTimes.get(kind)!),
          ),
          floor,
        ),
      );
    }
  }
  push(ctx, row("chain", "lookup", "plain directory", "lstat", true, lookups, floor));
}
