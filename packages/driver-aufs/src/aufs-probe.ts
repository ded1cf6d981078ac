import * as fsSync from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { backingFilesystem, NotSupportedError, ProbeCache, processAlive, run } from "@strata/core";
import { AUFS_SERVER_PATH, AufsMountHandler } from "./aufs-mount-handler.js";
import { aufsMount } from "./aufs-mount-spec.js";
import { aufsMountAt, unmountAufs } from "./fuse-mounts.js";
import { NATIVE_ADDON_PATH } from "./native-addon.js";

/** What the probe learned; `info` shows it. */
export interface AufsProbeResult {
  backingFilesystem: string;
}

/**
 * Version of what {@link probeAufs} checks; a remembered verdict from another version is
 * not used. Bump it when the probe's test changes.
 */
const PROBE_VERSION = "aufs-1";

/** Options of {@link probeAufs}. */
export interface ProbeAufsOptions {
  /**
   * Use and keep the verdict remembered in `root` ({@link ProbeCache}): when the kernel,
   * the boot, the backing filesystem and the helper's and native addon's files (size and
   * mtime) are those of the last successful test mount, skip it. The checks before the
   * test mount always run.
   */
  cache?: boolean;
}

/**
 * Check that the aufs driver works for this root: Linux as root, FUSE in the kernel and
 * `/dev/fuse`, fuse-native and the native helper installed, and a real union mounted by a
 * real helper (a writable branch over a read-only one holding a file and a whiteout) that
 * shows the file, hides the whited-out one and takes a write.
 * @throws NotSupportedError with the reason when aufs cannot work here.
 */
export async function probeAufs(
  root: string,
  opts: ProbeAufsOptions = {},
): Promise<AufsProbeResult> {
  if (process.platform !== "linux") throw new NotSupportedError("aufs: needs Linux (FUSE)");
  if (process.getuid?.() !== 0) {
    throw new NotSupportedError("aufs: needs root (the FUSE helper serves every file's owner)");
  }
  let filesystems = await fs.readFile("/proc/filesystems", "utf8").catch(() => "");
  if (!/\tfuse\n/.test(filesystems)) {
    await run("modprobe", ["fuse"]).catch(() => {});
    filesystems = await fs.readFile("/proc/filesystems", "utf8").catch(() => "");
    if (!/\tfuse\n/.test(filesystems))
      throw new NotSupportedError("aufs: the kernel has no FUSE filesystem");
  }
  try {
    await fs.access("/dev/fuse", fsSync.constants.R_OK | fsSync.constants.W_OK);
  } catch {
    throw new NotSupportedError("aufs: /dev/fuse is missing or not usable");
  }
  for (const [what, file] of [
    ["the FUSE helper", AUFS_SERVER_PATH],
    ["the native helper (npm rebuild @strata/driver-aufs)", NATIVE_ADDON_PATH],
  ] as const) {
    if (!fsSync.existsSync(file)) throw new NotSupportedError(`aufs: ${what} ${file} is missing`);
  }
  await fs.mkdir(root, { recursive: true });
  const backing = await backingFilesystem(root);
  if (backing.startsWith("fuse")) {
    throw new NotSupportedError(`aufs: the backing filesystem ${backing} of ${root} is FUSE`);
  }
  await clearDeadProbes(root);
  if (!opts.cache) return testMount(root, backing);
  const cache = new ProbeCache<AufsProbeResult>(
    root,
    await ProbeCache.fingerprint({
      probe: PROBE_VERSION,
      backingFilesystem: backing,
      helper: fileStamp(AUFS_SERVER_PATH),
      addon: fileStamp(NATIVE_ADDON_PATH),
    }),
  );
  const known = await cache.read();
  if (known) return known;
  const result = await testMount(root, backing);
  await cache.write(result);
  return result;
}

/** `size:mtime` of a file: a rebuilt helper or addon is probed again. */
function fileStamp(file: string): string {
  const st = fsSync.statSync(file);
  return `${st.size}:${st.mtimeMs}`;
}

/** Mount a real union under `root` and check it (see {@link probeAufs}). */
async function testMount(root: string, backing: string): Promise<AufsProbeResult> {
  const dir = await fs.mkdtemp(path.join(root, `probe-${process.pid}-`));
  const handler = new AufsMountHandler({ runDir: path.join(dir, "run"), readyTimeoutMs: 20_000 });
  const [rw, ro, work, mnt] = ["rw", "ro", "work", "mnt"].map((d) => path.join(dir, d)) as [
    string,
    string,
    string,
    string,
  ];
  let mounted = false;
  try {
    for (const d of [rw, ro, work, mnt]) await fs.mkdir(d);
    await fs.writeFile(path.join(ro, "f"), "aufs");
    await fs.writeFile(path.join(ro, "gone"), "x");
    await fs.writeFile(path.join(rw, ".wh.gone"), "");
    const m = aufsMount({
      branches: [
        { root: rw, rw: true },
        { root: ro, rw: false },
      ],
      workdir: work,
      readOnly: false,
    });
    try {
      await handler.mount(m, mnt);
      mounted = true;
    } catch (err) {
      throw new NotSupportedError(`aufs: a test mount failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const seen = (await fs.readdir(mnt)).sort().join(",");
    if (seen !== "f") throw new NotSupportedError(`aufs: a test union shows "${seen}", not "f"`);
    await fs.appendFile(path.join(mnt, "f"), "!");
    if ((await fs.readFile(path.join(ro, "f"), "utf8")) !== "aufs") {
      throw new NotSupportedError("aufs: a write through the test union reached its lower branch");
    }
    return { backingFilesystem: backing };
  } finally {
    if (mounted) await handler.unmount(mnt).catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Unmount and remove probe directories of probes whose process was killed midway. */
async function clearDeadProbes(root: string): Promise<void> {
  for (const name of await fs.readdir(root).catch(() => [] as string[])) {
    const m = /^probe-(\d+)-/.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    const dir = path.join(root, name);
    await new AufsMountHandler({ runDir: path.join(dir, "run") }).cleanStale();
    const left = await aufsMountAt(path.join(dir, "mnt"));
    if (left) await unmountAufs(left, true).catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  }
}
