import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HashPipe } from "../content/hash-pipe.js";
import { InvalidArgumentError } from "../errors.js";
import { mknod } from "../util/device.js";
import { breather } from "../util/event-loop.js";
import type { TarHeader } from "../util/tar-header.js";
import { readTar, type TarEntry } from "../util/tar-reader.js";
import { writeAllSync } from "../util/write-all.js";
import { isNotPermitted, isUnsupported, writeXattr } from "../util/xattrs.js";
import { cleanLayerPath, TreeGuard } from "./tree-guard.js";

/** A whiteout met while applying, as handed to {@link ApplyLayerTarOptions.convertWhiteout}. */
export interface Whiteout {
  /** `delete` for `.wh.<name>`, `opaque` for `.wh..wh..opq`. */
  kind: "delete" | "opaque";
  /** Path (relative to the tree) of the deleted entry, or of the opaque directory. */
  path: string;
  /** The same, absolute. Its parent directories exist and are real directories. */
  absPath: string;
  /** The whiteout's own tar header. */
  header: TarHeader;
}

/** Options of {@link applyLayerTar}. */
export interface ApplyLayerTarOptions {
  /** Stop applying; the tree holds a partial layer and must be discarded. */
  signal?: AbortSignal;
  /**
   * Handle a whiteout differently (containerd's `ConvertWhiteout`): an overlay driver
   * applying straight into an upper dir records it as a 0/0 char device or an
   * `trusted.overlay.opaque` xattr. Resolve `true` to also run the default (removal),
   * `false` to skip it. When set, missing parents of whiteouts are created.
   */
  convertWhiteout?: (w: Whiteout) => Promise<boolean>;
  /**
   * Give entries the owners the layer records (lchown). Default: when running as root,
   * as GNU tar's `--same-owner`; an unprivileged process keeps its own uid and gid.
   */
  sameOwner?: boolean;
  /**
   * Read `.wh.` entries as whiteouts (default true: a layer). False for a plain archive,
   * as docker's `cp` and `ADD` extract one: `.wh.x` is a file named `.wh.x`, and an opaque
   * marker clears nothing.
   */
  whiteouts?: boolean;
  /**
   * Which xattrs of the layer to set (default all). Overlay applying into an upper
   * directory drops `trusted.overlay.*`: the kernel would obey them (opaque, redirect,
   * origin, metacopy) as if overlay had written them.
   */
  xattrFilter?: (name: string) => boolean;
  /**
   * Hash the stream on a worker thread (a {@link HashPipe}, when one is free) instead of
   * this one, which then only copies each chunk: for large layers. Default false.
   */
  hashOnWorker?: boolean;
}

/** What {@link applyLayerTar} did. */
export interface ApplyLayerTarResult {
  /** sha256 of the whole uncompressed tar stream: the layer's diff ID. */
  diffId: string;
  /** Bytes of uncompressed tar read. */
  size: number;
  /** Tar entries processed (whiteouts included, PAX headers not). */
  entries: number;
  /** Xattrs that could not be set (filesystem without support, or EPERM), as docker warns. */
  warnings: string[];
}

const WHITEOUT_PREFIX = ".wh.";
const WHITEOUT_META_PREFIX = ".wh..wh.";
const OPAQUE = ".wh..wh..opq";
const SMALL_FILE = 1 << 20;
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const CREATE_FILE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/**
 * Extract an uncompressed layer tar onto the tree at `dir`, as docker's `UnpackLayer`:
 *
 * - `.wh.<name>` removes `<name>` (recursively); `.wh..wh..opq` empties its directory of
 *   everything this same layer did not create; other `.wh..wh.*` entries at the root
 *   (AUFS metadata) are skipped.
 * - An entry replaces an existing non-directory, and a non-directory entry replaces an
 *   existing directory; a directory over a directory only updates its metadata.
 * - Owner (lchown, see `sameOwner`), mode (not on symlinks), xattrs and times (lutimes)
 *   are set; directory modes and times last, deepest first. Hardlinks link to their
 *   target inside the tree; device nodes and fifos are made with `mknod`.
 * - Safety: absolute names, `..` components, parents that are symlinks (never followed),
 *   hardlink targets outside the tree and whiteouts that would escape are rejected.
 *
 * The stream is hashed as it is read (`diffId`), trailing bytes after the end-of-archive
 * marker included. Filesystem calls are synchronous, letting the event loop run every few
 * hundred entries (several times faster than thread-pool calls on small files; see
 * `util/event-loop.ts`).
 * @throws InvalidArgumentError for a rejected entry or a malformed tar (or a corrupt
 *   compressed stream, from {@link decompressLayer}); the tree may then hold part of the
 *   layer.
 */
export async function applyLayerTar(
  stream: AsyncIterable<Uint8Array>,
  dir: string,
  opts: ApplyLayerTarOptions = {},
): Promise<ApplyLayerTarResult> {
  const pipe = opts.hashOnWorker ? HashPipe.open() : undefined;
  const hash = pipe ? undefined : createHash("sha256");
  let size = 0;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) {
      if (pipe) await pipe.write(chunk);
      else hash?.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  try {
    const r = await unpack();
    const diffId = pipe ? (await pipe.finish()).digest : `sha256:${hash?.digest("hex")}`;
    return { ...r, diffId, size };
  } finally {
    await pipe?.abort();
  }

  async function unpack(): Promise<Omit<ApplyLayerTarResult, "diffId" | "size">> {
    const tree = new TreeGuard(dir);
    const unpacked = new Set<string>();
    /** Directories' final mode and times, set last: children change the mtime, and a
     * read-only mode would stop an unprivileged process from filling the directory. */
    const dirMeta: { rel: string; mode: number; atime: number; mtime: number }[] = [];
    const warnings: string[] = [];
    const breathe = breather();
    const sameOwner = opts.sameOwner ?? process.getuid?.() === 0;
    let entries = 0;

    for await (const entry of readTar(hashed())) {
      opts.signal?.throwIfAborted();
      entries++;
      const h = entry.header;
      // A leading "/" names a path inside the layer, as docker and containerd read it (umoci
      // writes the root directory as "/"); ".." is still refused by cleanLayerPath.
      const rel = cleanLayerPath(h.name.replace(/^\/+/, ""));
      const whiteouts = opts.whiteouts !== false;
      if (whiteouts && rel.startsWith(WHITEOUT_META_PREFIX) && rel !== OPAQUE) continue;
      const base = path.posix.basename(rel);
      try {
        if (whiteouts && base.startsWith(WHITEOUT_PREFIX)) {
          await whiteout(h, rel, base);
          continue;
        }
        if (rel === "") {
          if (h.type !== "dir")
            throw new InvalidArgumentError(`layer entry "${h.name}": root is not a directory`);
        } else {
          tree.parents(rel, true, h.name);
        }
        await createEntry(entry, rel);
      } catch (err) {
        throw inputError(err, h.name);
      }
      unpacked.add(rel);
      await breathe();
    }

    dirMeta.sort((a, b) => depth(b.rel) - depth(a.rel));
    // Checked afresh: a later entry may have replaced a parent of a recorded directory by a
    // symlink (`a/`, `a/b/`, then `a` -> /outside), and chmod would follow it out of the tree.
    const final = new TreeGuard(dir);
    for (const d of dirMeta) {
      const abs = tree.abs(d.rel);
      if (!isRealDir(final, d.rel)) continue; // replaced later
      fs.chmodSync(abs, d.mode);
      fs.lutimesSync(abs, d.atime, d.mtime);
    }
    return { entries, warnings };

    async function whiteout(h: TarHeader, rel: string, base: string): Promise<void> {
      const parent = path.posix.dirname(rel) === "." ? "" : path.posix.dirname(rel);
      const kind = base === OPAQUE ? "opaque" : "delete";
      const name = base.slice(WHITEOUT_PREFIX.length);
      if (kind === "delete" && (name === "" || name === "." || name === "..")) {
        throw new InvalidArgumentError(`layer entry "${h.name}": whiteout escapes its directory`);
      }
      if (!tree.parents(rel, opts.convertWhiteout !== undefined, h.name)) return;
      const target = kind === "opaque" ? parent : parent ? `${parent}/${name}` : name;
      const w: Whiteout = { kind, path: target, absPath: tree.abs(target), header: h };
      if (opts.convertWhiteout && !(await opts.convertWhiteout(w))) return;
      if (kind === "delete") removeAll(target);
      else clearOpaque(target);
    }

    /** Remove everything below `rel` that this layer did not create (docker's unpackedPaths). */
    function clearOpaque(rel: string): void {
      let names: string[];
      try {
        names = fs.readdirSync(tree.abs(rel));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") return;
        throw err;
      }
      for (const n of names) {
        const child = rel ? `${rel}/${n}` : n;
        if (!unpacked.has(child)) removeAll(child);
        else if (fs.lstatSync(tree.abs(child)).isDirectory()) clearOpaque(child);
      }
    }

    function removeAll(rel: string): void {
      const st = fs.lstatSync(tree.abs(rel), { throwIfNoEntry: false });
      if (!st) return;
      if (st.isDirectory()) tree.forget(rel);
      unpacked.delete(rel);
      fs.rmSync(tree.abs(rel), { recursive: true, force: true });
    }

    async function createEntry(entry: TarEntry, rel: string): Promise<void> {
      const h = entry.header;
      const abs = tree.abs(rel);
      const existing = fs.lstatSync(abs, { throwIfNoEntry: false });
      const merge = existing?.isDirectory() === true && h.type === "dir";
      if (existing && !merge) removeAll(rel);
      const atime = h.atime ?? h.mtime;
      switch (h.type) {
        case "dir":
          if (!merge) fs.mkdirSync(abs, 0o700);
          setMeta(abs, h, h.mode | 0o700);
          dirMeta.push({ rel, mode: h.mode, atime, mtime: h.mtime });
          return;
        case "file": {
          // O_EXCL|O_NOFOLLOW: never write through whatever might sit at `abs`.
          const fd = fs.openSync(abs, CREATE_FILE, 0o600);
          try {
            if (h.size <= SMALL_FILE) writeAllSync(fd, await entry.buffer());
            else for await (const chunk of entry.chunks()) writeAllSync(fd, chunk);
            if (sameOwner) fs.fchownSync(fd, h.uid, h.gid);
            fs.fchmodSync(fd, h.mode);
            setXattrs(abs, h);
            fs.futimesSync(fd, atime, h.mtime);
          } finally {
            fs.closeSync(fd);
          }
          return;
        }
        case "symlink":
          fs.symlinkSync(h.linkname ?? "", abs);
          if (sameOwner) fs.lchownSync(abs, h.uid, h.gid);
          setXattrs(abs, h);
          fs.lutimesSync(abs, atime, h.mtime);
          return;
        case "link": {
          const target = cleanLayerPath(h.linkname ?? "", `hardlink "${h.name}" target`);
          const st =
            target !== "" && tree.parents(target, false, h.name)
              ? fs.lstatSync(tree.abs(target), { throwIfNoEntry: false })
              : undefined;
          if (!st || st.isDirectory()) {
            throw new InvalidArgumentError(
              `layer entry "${h.name}": hardlink target "${h.linkname}" is not a file in the tree`,
            );
          }
          fs.linkSync(tree.abs(target), abs);
          return;
        }
        case "char":
        case "block":
        case "fifo":
          await mknod(abs, h.type, { major: h.devmajor ?? 0, minor: h.devminor ?? 0 });
          setMeta(abs, h);
          fs.lutimesSync(abs, atime, h.mtime);
          return;
      }
    }

    /** Owner, then mode (chown clears setuid/setgid), then xattrs; not for symlinks. */
    function setMeta(abs: string, h: TarHeader, mode = h.mode): void {
      if (sameOwner) fs.lchownSync(abs, h.uid, h.gid);
      fs.chmodSync(abs, mode);
      setXattrs(abs, h);
    }

    function setXattrs(abs: string, h: TarHeader): void {
      for (const [name, value] of h.xattrs ?? []) {
        if (opts.xattrFilter && !opts.xattrFilter(name)) continue;
        try {
          writeXattr(abs, name, value);
        } catch (err) {
          if (!isUnsupported(err) && !isNotPermitted(err)) throw err;
          warnings.push(
            `layer entry "${h.name}": xattr "${name}" not set: ${(err as Error).message}`,
          );
        }
      }
    }
  }
}

/** A name the filesystem cannot hold is the layer's fault: say so as a typed error. */
function inputError(err: unknown, name: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENAMETOOLONG") {
    return new InvalidArgumentError(`layer entry "${name.slice(0, 200)}…": name too long`, {
      cause: err,
    });
  }
  return err;
}

/** `rel` is still a directory reached through real directories only (no symlink). */
function isRealDir(tree: TreeGuard, rel: string): boolean {
  try {
    if (!tree.parents(rel, false)) return false;
  } catch (err) {
    if (err instanceof InvalidArgumentError) return false; // a parent is now a symlink or file
    throw err;
  }
  return fs.lstatSync(tree.abs(rel), { throwIfNoEntry: false })?.isDirectory() === true;
}

function depth(rel: string): number {
  if (rel === "") return -1;
  let n = 0;
  for (let i = rel.indexOf("/"); i >= 0; i = rel.indexOf("/", i + 1)) n++;
  return n;
}
