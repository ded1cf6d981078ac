import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveInRoot } from "../container/rootfs-lookup.js";
import type { IgnoreMatcher } from "../dockerfile/dockerignore.js";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { hasWildcard, pathMatch } from "./path-match.js";

/** One path of a source tree as a COPY sees it: relative name, host path, lstat. */
export interface SourceEntry {
  /** `/`-separated path relative to the tree's root ("" is the root). */
  rel: string;
  abs: string;
  stat: fs.Stats;
  /** The name the user wrote (a symlink's own name, not its target's), when it differs. */
  name?: string;
}

/**
 * A tree that COPY and ADD read from: the build context (a directory, with `.dockerignore`
 * applied: an excluded path is as if it did not exist) or, for `COPY --from`, another
 * stage's or image's root filesystem. Names are resolved inside the tree (symlinks are
 * followed as the tree sees them, never out of it) as docker's `FollowSymlinkInScope`.
 * @experimental
 */
export class SourceTree {
  /**
   * @param root absolute path of the tree.
   * @param ignore `.dockerignore`'s matcher (none for an image's tree).
   */
  constructor(
    readonly root: string,
    private readonly ignore?: IgnoreMatcher,
  ) {}

  /** Whether `rel` is hidden by `.dockerignore`. */
  isExcluded(rel: string): boolean {
    return rel !== "" && this.ignore !== undefined && this.ignore.matches(rel);
  }

  /**
   * The entries a COPY source word names: a wildcard expands to every matching path
   * (sorted, docker's `filepath.Match` over paths relative to the root), else the one
   * path. The host path of a plain name has symlinks resolved inside the tree.
   * @throws InvalidArgumentError for a path outside the context.
   * @throws NotFoundError `file not found in build context or excluded by .dockerignore`.
   */
  resolve(word: string): SourceEntry[] {
    const clean = path.posix.normalize(`/${word}`).slice(1).replace(/\/$/, "");
    if (path.posix.normalize(word).startsWith("../") || word === "..") {
      throw new InvalidArgumentError(`Forbidden path outside the build context: ${word} ()`);
    }
    if (hasWildcard(clean)) {
      const out: SourceEntry[] = [];
      for (const e of this.walk("")) if (e.rel !== "" && pathMatch(clean, e.rel)) out.push(e);
      if (out.length === 0) throw notFound(word);
      return out;
    }
    if (this.isExcluded(clean)) throw notFound(word);
    const abs = resolveInRoot(this.root, clean);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!st) throw notFound(word);
    const rel = path.relative(this.root, abs).split(path.sep).join("/");
    return [{ rel, abs, stat: st, name: path.posix.basename(clean) || path.posix.basename(rel) }];
  }

  /**
   * Every entry at and below `rel` (the entry itself first, then children in name order),
   * excluded ones left out; an excluded directory is entered only when a `!` exception
   * may bring a child back (the matcher's `mustWalk`), as docker's walk does.
   */
  *walk(
    rel: string,
    abs = rel === "" ? this.root : path.join(this.root, rel),
  ): Generator<SourceEntry> {
    const st = fs.lstatSync(abs);
    const excluded = this.isExcluded(rel);
    if (!excluded) yield { rel, abs, stat: st };
    if (!st.isDirectory() || (excluded && !this.ignore?.mustWalk(rel))) return;
    for (const name of fs.readdirSync(abs).sort()) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      yield* this.walk(childRel, path.join(abs, name));
    }
  }

  /**
   * Content hash of a source as the build cache keys it (docker's tarsum idea): for each
   * entry below it, its relative name, type, mode, size, link target and the sha256 of its
   * contents. Times and owners are left out, so a touched file stays cached.
   */
  hash(entry: SourceEntry): string {
    const h = createHash("sha256");
    const base = entry.rel;
    const entries = entry.stat.isDirectory() ? this.walk(entry.rel, entry.abs) : [entry];
    for (const e of entries) {
      const name = base === "" ? e.rel : e.rel.slice(base.length);
      const st = e.stat;
      let extra = "";
      if (st.isSymbolicLink()) extra = fs.readlinkSync(e.abs);
      else if (st.isFile()) extra = fileDigest(e.abs, st.size);
      h.update(`${name}\0${st.mode.toString(8)}\0${st.isFile() ? st.size : 0}\0${extra}\n`);
    }
    return h.digest("hex");
  }

  /** Bytes the context takes as a tar (docker's `Sending build context to Docker daemon`). */
  tarSize(): number {
    let n = 1024;
    for (const e of this.walk("")) {
      if (e.rel === "") continue;
      n += 512;
      if (e.rel.length > 99) n += 1024; // a PAX header for the long name
      if (e.stat.isFile()) n += Math.ceil(e.stat.size / 512) * 512;
    }
    return n;
  }
}

/** A read buffer shared by every large file hashed (hashing is synchronous). */
let readBuffer: Buffer | undefined;

function fileDigest(file: string, size: number): string {
  const h = createHash("sha256");
  if (size <= 1 << 20) return h.update(fs.readFileSync(file)).digest("hex");
  readBuffer ??= Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, "r");
  try {
    for (;;) {
      const n = fs.readSync(fd, readBuffer, 0, readBuffer.length, null);
      if (n === 0) break;
      h.update(readBuffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

function notFound(word: string): NotFoundError {
  return new NotFoundError(
    `file not found in build context or excluded by .dockerignore: stat ${word}: file does not exist`,
  );
}
