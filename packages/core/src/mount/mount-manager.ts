import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { injectAll, injectable } from "tsyringe";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { Tokens } from "../tokens.js";
import { run } from "../util/exec.js";
import { processAlive } from "../util/process.js";
import { isReadOnly, type Mount, type MountHandler } from "./mount.js";

/**
 * Performs the mounts drivers describe (drivers never mount anything themselves).
 *
 * `bind` and `overlay` are built in; other types go to the {@link MountHandler} registered
 * for them. A writable bind of a single directory is not mounted at all when the caller
 * only needs a path ({@link withTempMount}): the source directory is the tree.
 */
@injectable()
export class MountManager {
  private readonly handlers: Map<string, MountHandler>;

  constructor(@injectAll(Tokens.MountHandler, { isOptional: true }) handlers: MountHandler[] = []) {
    this.handlers = new Map((handlers ?? []).map((h) => [h.type, h]));
  }

  /** Add a handler (used by tests and drivers loaded after construction). */
  addHandler(h: MountHandler): void {
    this.handlers.set(h.type, h);
  }

  /**
   * Mount `mounts` (in order) on `target`, which must exist.
   * @throws NotSupportedError for a type with no handler.
   */
  async mount(mounts: readonly Mount[], target: string): Promise<void> {
    const done: string[] = [];
    try {
      for (const m of mounts) {
        const where = m.target ? path.join(target, m.target) : target;
        await this.mountOne(m, where);
        done.push(where);
      }
    } catch (err) {
      for (const where of done.reverse()) await this.unmount(where).catch(() => {});
      throw err;
    }
  }

  private async mountOne(m: Mount, target: string): Promise<void> {
    const h = this.handlers.get(m.type);
    if (h) return h.mount(m, target);
    if (m.type === "bind") {
      const recursive = m.options.includes("rbind");
      await run("mount", [recursive ? "--rbind" : "--bind", m.source, target]);
      if (isReadOnly(m)) {
        try {
          await run("mount", ["-o", "remount,bind,ro", target]);
        } catch (err) {
          await run("umount", [target]).catch(() => {});
          throw err;
        }
      }
      return;
    }
    if (m.type === "overlay") {
      const { options, cwd } = shortenOverlayOptions(m.options);
      const args = [
        "-t",
        "overlay",
        m.source || "overlay",
        "-o",
        options.join(","),
        path.resolve(target),
      ];
      await run("mount", args, cwd ? { cwd } : {});
      return;
    }
    throw new NotSupportedError(`mount type "${m.type}": no handler registered`);
  }

  /** Unmount whatever is mounted at `target` (lazily when busy). */
  async unmount(target: string): Promise<void> {
    for (const h of this.handlers.values()) {
      if (await isMountedBy(target, h.type)) return h.unmount(target);
    }
    try {
      await run("umount", [target]);
    } catch {
      await run("umount", ["-l", target]);
    }
  }

  /**
   * Run `fn` with the tree behind `mounts` available as a directory, then unmount.
   * A single writable bind needs no mount: `fn` gets its source directly.
   * An empty list means an empty tree (a base layer's lower side).
   */
  async withTempMount<T>(mounts: readonly Mount[], fn: (dir: string) => Promise<T>): Promise<T> {
    const only = mounts[0];
    if (mounts.length === 1 && only && only.type === "bind" && !only.target && !isReadOnly(only)) {
      return fn(only.source);
    }
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${TEMP_MOUNT_PREFIX}${process.pid}-`));
    try {
      if (mounts.length === 0) return await fn(dir);
      if (
        mounts.some(
          (m) => m.target && path.isAbsolute(m.target) === false && m.target.includes(".."),
        )
      ) {
        throw new InvalidArgumentError("mount target escapes the mount root");
      }
      await this.mount(mounts, dir);
      try {
        return await fn(dir);
      } finally {
        await this.unmount(dir);
      }
    } finally {
      await fs.rmdir(dir).catch(() => {});
    }
  }
}

/** Temporary mount points are `<tmpdir>/strata-mnt-<pid>-XXXXXX`, so stale ones can be told. */
const TEMP_MOUNT_PREFIX = "strata-mnt-";

/**
 * Unmount and remove temporary mount points left by strata processes that died (killed
 * while a diff or apply had a tree mounted).
 * @returns the mount points cleared.
 */
export async function cleanStaleTempMounts(tmpDir = os.tmpdir()): Promise<string[]> {
  const re = new RegExp(`^${escapeRe(path.join(tmpDir, TEMP_MOUNT_PREFIX))}(\\d+)-[^/]+$`);
  const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const stale = new Set<string>();
  for (const line of info.split("\n")) {
    const mp = line.split(" ")[4];
    const m = mp ? re.exec(mp) : null;
    if (mp && m && !processAlive(Number(m[1]))) stale.add(mp);
  }
  for (const name of await fs.readdir(tmpDir).catch(() => [] as string[])) {
    const m = re.exec(path.join(tmpDir, name));
    if (m && !processAlive(Number(m[1]))) stale.add(path.join(tmpDir, name));
  }
  const cleared: string[] = [];
  for (const mp of stale) {
    // A stack of mounts may sit on one point: unmount until none is left.
    for (let i = 0; i < 16 && (await isMountPoint(mp)); i++)
      await run("umount", ["-l", mp]).catch(() => {});
    await fs.rmdir(mp).catch(() => {});
    cleared.push(mp);
  }
  return cleared;
}

/** Whether `p` is a mount point (appears in /proc/self/mountinfo). */
export async function isMountPoint(p: string): Promise<boolean> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const abs = path.resolve(p);
  return info.split("\n").some((line) => line.split(" ")[4] === abs);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The kernel takes at most one page of mount options; leave room for what `mount` adds. */
const MAX_OPTIONS_BYTES = 4000;

/**
 * Fit a long overlay `lowerdir=` list into a page (docker's `mountFrom` trick): when the
 * options are too long, mount from the lower directories' common parent with relative
 * names. Returns the options unchanged when they fit.
 * @throws InvalidArgumentError when they cannot be made to fit.
 */
export function shortenOverlayOptions(options: readonly string[]): {
  options: string[];
  cwd?: string;
} {
  if (options.join(",").length <= MAX_OPTIONS_BYTES) return { options: [...options] };
  const lowerIdx = options.findIndex((o) => o.startsWith("lowerdir="));
  const lowers = lowerIdx >= 0 ? options[lowerIdx]!.slice("lowerdir=".length).split(":") : [];
  let common = lowers.length > 0 ? path.dirname(lowers[0]!) : "";
  for (const l of lowers) {
    while (common !== "/" && !l.startsWith(`${common}/`)) common = path.dirname(common);
  }
  if (lowers.length === 0 || common === "/" || !path.isAbsolute(common)) {
    throw new InvalidArgumentError(
      `overlay mount options are ${options.join(",").length} bytes, more than a page`,
    );
  }
  const rel = lowers.map((l) => path.relative(common, l));
  const out = [...options];
  out[lowerIdx] = `lowerdir=${rel.join(":")}`;
  if (out.join(",").length > MAX_OPTIONS_BYTES) {
    throw new InvalidArgumentError(
      `overlay mount options are too long even with relative lower directories`,
    );
  }
  return { options: out, cwd: common };
}

/** Whether `/proc/self/mountinfo` shows a mount of filesystem type `type` at `target`. */
async function isMountedBy(target: string, type: string): Promise<boolean> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const abs = path.resolve(target);
  for (const line of info.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const mountPoint = pre.split(" ")[4];
    const fstype = post.split(" ")[0];
    if (mountPoint === abs && fstype === type) return true;
  }
  return false;
}
