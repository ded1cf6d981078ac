import { createHash } from "node:crypto";
import { constants } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { mknod } from "../util/device.js";
import type { TarHeader } from "../util/tar-header.js";
import { readTar, type TarEntry } from "../util/tar-reader.js";
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
const CREATE_FILE =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Extract an uncompressed layer tar onto the tree at `dir`, as docker's `UnpackLayer`:
 *
 * - `.wh.<name>` removes `<name>` (recursively); `.wh..wh..opq` empties its directory of
 *   everything this same layer did not create; other `.wh..wh.*` entries at the root
 *   (AUFS metadata) are skipped.
 * - An entry replaces an existing non-directory, and a non-directory entry replaces an
 *   existing directory; a directory over a directory only updates its metadata.
 * - Owner (lchown), mode (not on symlinks), xattrs and times (lutimes) are set; directory
 *   times last, deepest first. Hardlinks link to their target inside the tree; device
 *   nodes and fifos are made with `mknod`.
 * - Safety: absolute names, `..` components, parents that are symlinks (never followed),
 *   hardlink targets outside the tree and whiteouts that would escape are rejected.
 *
 * The stream is hashed as it is read (`diffId`), trailing bytes after the end-of-archive
 * marker included.
 * @throws InvalidArgumentError for a rejected entry or a malformed tar (or a corrupt
 *   compressed stream, from {@link decompressLayer}); the tree may then hold part of the
 *   layer.
 */
export async function applyLayerTar(
  stream: AsyncIterable<Uint8Array>,
  dir: string,
  opts: ApplyLayerTarOptions = {},
): Promise<ApplyLayerTarResult> {
  const hash = createHash("sha256");
  let size = 0;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  const tree = new TreeGuard(dir);
  const unpacked = new Set<string>();
  const dirTimes: { rel: string; atime: number; mtime: number }[] = [];
  const warnings: string[] = [];
  let entries = 0;

  for await (const entry of readTar(hashed())) {
    opts.signal?.throwIfAborted();
    entries++;
    const h = entry.header;
    const rel = cleanLayerPath(h.name);
    if (rel.startsWith(WHITEOUT_META_PREFIX) && rel !== OPAQUE) continue;
    const base = path.posix.basename(rel);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      await whiteout(h, rel, base);
      continue;
    }
    if (rel === "") {
      if (h.type !== "dir")
        throw new InvalidArgumentError(`layer entry "${h.name}": root is not a directory`);
    } else {
      await tree.parents(rel, true, h.name);
    }
    await createEntry(entry, rel);
    unpacked.add(rel);
  }

  dirTimes.sort((a, b) => depth(b.rel) - depth(a.rel));
  for (const t of dirTimes) {
    await fs.lutimes(tree.abs(t.rel), t.atime, t.mtime).catch(ignoreMissing);
  }
  return { diffId: `sha256:${hash.digest("hex")}`, size, entries, warnings };

  async function whiteout(h: TarHeader, rel: string, base: string): Promise<void> {
    const parent = path.posix.dirname(rel) === "." ? "" : path.posix.dirname(rel);
    const kind = base === OPAQUE ? "opaque" : "delete";
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (kind === "delete" && (name === "" || name === "." || name === "..")) {
      throw new InvalidArgumentError(`layer entry "${h.name}": whiteout escapes its directory`);
    }
    if (!(await tree.parents(rel, opts.convertWhiteout !== undefined, h.name))) return;
    const target = kind === "opaque" ? parent : parent ? `${parent}/${name}` : name;
    const w: Whiteout = { kind, path: target, absPath: tree.abs(target), header: h };
    if (opts.convertWhiteout && !(await opts.convertWhiteout(w))) return;
    if (kind === "delete") await removeAll(target);
    else await clearOpaque(target);
  }

  /** Remove everything below `rel` that this layer did not create (docker's unpackedPaths). */
  async function clearOpaque(rel: string): Promise<void> {
    const names = await fs.readdir(tree.abs(rel)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return [] as string[];
      throw err;
    });
    for (const n of names) {
      const child = rel ? `${rel}/${n}` : n;
      if (!unpacked.has(child)) await removeAll(child);
      else if ((await fs.lstat(tree.abs(child))).isDirectory()) await clearOpaque(child);
    }
  }

  async function removeAll(rel: string): Promise<void> {
    const st = await fs.lstat(tree.abs(rel)).catch(ignoreMissing);
    if (!st) return;
    if (st.isDirectory()) tree.forget(rel);
    unpacked.delete(rel);
    await fs.rm(tree.abs(rel), { recursive: true, force: true });
  }

  async function createEntry(entry: TarEntry, rel: string): Promise<void> {
    const h = entry.header;
    const abs = tree.abs(rel);
    const existing = await fs.lstat(abs).catch(ignoreMissing);
    const merge = existing?.isDirectory() === true && h.type === "dir";
    if (existing && !merge) await removeAll(rel);
    const atime = h.atime ?? h.mtime;
    switch (h.type) {
      case "dir":
        if (!merge) await fs.mkdir(abs, 0o700);
        await setMeta(abs, h);
        dirTimes.push({ rel, atime, mtime: h.mtime });
        return;
      case "file": {
        const fh = await fs.open(abs, CREATE_FILE, 0o600);
        try {
          if (h.size <= SMALL_FILE) await writeAll(fh, await entry.buffer());
          else for await (const chunk of entry.chunks()) await writeAll(fh, chunk);
          await fh.chown(h.uid, h.gid);
          await fh.chmod(h.mode);
          setXattrs(abs, h);
          await fh.utimes(atime, h.mtime);
        } finally {
          await fh.close();
        }
        return;
      }
      case "symlink":
        await fs.symlink(h.linkname ?? "", abs);
        await fs.lchown(abs, h.uid, h.gid);
        setXattrs(abs, h);
        await fs.lutimes(abs, atime, h.mtime);
        return;
      case "link": {
        const target = cleanLayerPath(h.linkname ?? "", `hardlink "${h.name}" target`);
        const st =
          target !== "" && (await tree.parents(target, false, h.name))
            ? await fs.lstat(tree.abs(target)).catch(ignoreMissing)
            : undefined;
        if (!st || st.isDirectory()) {
          throw new InvalidArgumentError(
            `layer entry "${h.name}": hardlink target "${h.linkname}" is not a file in the tree`,
          );
        }
        await fs.link(tree.abs(target), abs);
        return;
      }
      case "char":
      case "block":
      case "fifo":
        await mknod(abs, h.type, { major: h.devmajor ?? 0, minor: h.devminor ?? 0 });
        await setMeta(abs, h);
        await fs.lutimes(abs, atime, h.mtime);
        return;
    }
  }

  /** Owner, then mode (chown clears setuid/setgid), then xattrs; not for symlinks. */
  async function setMeta(abs: string, h: TarHeader): Promise<void> {
    await fs.lchown(abs, h.uid, h.gid);
    await fs.chmod(abs, h.mode);
    setXattrs(abs, h);
  }

  function setXattrs(abs: string, h: TarHeader): void {
    for (const [name, value] of h.xattrs ?? []) {
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

async function writeAll(fh: fs.FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

function depth(rel: string): number {
  if (rel === "") return -1;
  let n = 0;
  for (let i = rel.indexOf("/"); i >= 0; i = rel.indexOf("/", i + 1)) n++;
  return n;
}

function ignoreMissing(err: NodeJS.ErrnoException): undefined {
  if (err.code === "ENOENT") return undefined;
  throw err;
}
