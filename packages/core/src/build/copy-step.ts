import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { lookupUser, resolveInRoot } from "../container/rootfs-lookup.js";
import { applyLayerTar } from "../diff/apply-layer-tar.js";
import type { LayerChange } from "../diff/layer-change.js";
import { TreeGuard } from "../diff/tree-guard.js";
import { writeLayerTar } from "../diff/write-layer-tar.js";
import type { CopyInstruction, ShellWordExpander } from "../dockerfile/dockerfile-types.js";
import { ShellLexer } from "../dockerfile/shell-word-expander.js";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import type { ByteSink } from "../util/byte-sink.js";
import { type SourceEntry, SourceTree } from "./build-context.js";

/** A source of a COPY/ADD, resolved: entries of a tree, a heredoc, or a downloaded file. */
interface ResolvedSource {
  tree: SourceTree;
  entry: SourceEntry;
  /** Content hash for the cache and the history comment. */
  hash: string;
  /** ADD of a local archive: unpacked into the destination instead of copied. */
  archive: boolean;
  /** The name a file copied into a directory gets (a URL's last path component). */
  name?: string;
}

/**
 * One COPY or ADD step, planned before anything is written: sources resolved and hashed
 * (the cache key needs the hash), then {@link apply} writes them into a mounted root
 * filesystem through core's guarded layer applier, so no name, symlink or archive entry
 * can write outside that tree.
 * @experimental
 */
export class CopyPlan {
  private constructor(
    private readonly instr: CopyInstruction,
    private readonly sources: ResolvedSource[],
    private readonly dest: string,
    private readonly chown: string | undefined,
    private readonly chmod: number | undefined,
    private readonly cleanup: string[],
  ) {}

  /**
   * Resolve the sources of `instr` in `tree` (the context, or `--from`'s root filesystem).
   * @param workdir the stage's WORKDIR, for a relative destination.
   * @throws InvalidArgumentError, NotFoundError, NotSupportedError with docker's wording.
   */
  static async plan(
    instr: CopyInstruction,
    tree: SourceTree,
    env: ReadonlyMap<string, string>,
    expander: ShellWordExpander,
    workdir: string,
  ): Promise<CopyPlan> {
    const word = (s: string) => expander.processWord(s, env);
    let chown: string | undefined;
    let chmod: number | undefined;
    for (const f of instr.flags) {
      if (f.name === "chown") chown = word(f.value ?? "");
      else if (f.name === "chmod") {
        const v = word(f.value ?? "");
        if (!/^[0-7]{1,4}$/.test(v))
          throw new InvalidArgumentError(`invalid chmod parameter: ${v}`);
        chmod = Number.parseInt(v, 8);
      } else if (f.name === "from" && instr.keyword === "COPY") {
        // resolved by the builder, which hands the right tree
      } else if (f.name === "link" || f.name === "keep-git-dir" || f.name === "checksum") {
        throw new NotSupportedError(
          `${instr.keyword} --${f.name}: not supported by strata's builder`,
        );
      } else {
        throw new InvalidArgumentError(`Unknown flag: ${f.name}`);
      }
    }
    const rawDest = word(instr.dest);
    if (rawDest === "") throw new InvalidArgumentError(`${instr.keyword} requires a destination`);
    let dest = rawDest.startsWith("/") ? rawDest : path.posix.join(workdir || "/", rawDest);
    if (rawDest.endsWith("/") || rawDest === "." || rawDest.endsWith("/."))
      dest = `${dest.replace(/\/+$/, "")}/`;
    const sources: ResolvedSource[] = [];
    const cleanup: string[] = [];
    try {
      for (const raw of instr.sources) {
        const heredoc = instr.heredocs.find((h) => h.name === raw);
        if (heredoc) {
          // As docker: variables expanded, quotes left as written.
          const escapeToken = (expander as { escapeToken?: "\\" | "`" }).escapeToken ?? "\\";
          const content = heredoc.expand
            ? new ShellLexer(escapeToken, { skipProcessQuotes: true }).processWord(
                heredoc.content,
                env,
              )
            : heredoc.content;
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-heredoc-"));
          cleanup.push(dir);
          // The body goes to a fixed name; the heredoc's name (its last component) is only
          // what the file is called in the image.
          fs.writeFileSync(path.join(dir, "body"), content, { mode: 0o644 });
          sources.push({
            ...fileSource(dir, "body", content),
            name: path.posix.basename(raw) || "body",
          });
          continue;
        }
        const src = word(raw);
        if (/^https?:\/\//i.test(src)) {
          if (instr.keyword === "COPY") {
            throw new InvalidArgumentError(`source can't be a URL for COPY`);
          }
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-add-"));
          cleanup.push(dir);
          sources.push(await download(src, dir));
          continue;
        }
        for (const entry of tree.resolve(src)) {
          const archive =
            instr.keyword === "ADD" && entry.stat.isFile() && archiveKind(entry.abs) !== undefined;
          sources.push({ tree, entry, hash: tree.hash(entry), archive });
        }
      }
    } catch (err) {
      for (const d of cleanup) fs.rmSync(d, { recursive: true, force: true });
      throw err;
    }
    if (sources.length > 1 && !dest.endsWith("/")) {
      for (const d of cleanup) fs.rmSync(d, { recursive: true, force: true });
      throw new InvalidArgumentError(
        `When using ${instr.keyword} with more than one source file, the destination must be a directory and end with a /`,
      );
    }
    return new CopyPlan(instr, sources, dest, chown, chmod, cleanup);
  }

  /** docker's history comment: `file:<hash> in /dest ` (`dir:`, `multi:` for several). */
  get comment(): string {
    const one = this.sources.length === 1 ? this.sources[0]! : undefined;
    const kind = one ? (one.entry.stat.isDirectory() ? "dir" : "file") : "multi";
    const hash = one
      ? one.hash
      : createHash("sha256")
          .update(this.sources.map((s) => s.hash).join(","))
          .digest("hex");
    return `${this.instr.keyword} ${kind}:${hash} in ${this.dest} `;
  }

  /** What the cache key adds to the comment: the flags that change the result. */
  get keyExtra(): string {
    return JSON.stringify({ chown: this.chown, chmod: this.chmod, n: this.sources.length });
  }

  /** Write the sources into the root filesystem at `rootfs`. */
  async apply(rootfs: string): Promise<void> {
    let uid = 0;
    let gid = 0;
    if (this.chown !== undefined && this.chown !== "") {
      const [u = "", g] = this.chown.split(":", 2);
      const who = lookupUser(rootfs, this.chown);
      uid = who.uid;
      gid = g === undefined || g === "" ? (/^\d+$/.test(u) ? uid : who.uid) : who.gid;
    }
    const destIsDir = this.dest.endsWith("/");
    const destPath = this.dest.replace(/\/+$/, "") || "/";
    const changes: LayerChange[] = [];
    const relOf = (abs: string) => path.relative(rootfs, abs).split(path.sep).join("/");
    for (const s of this.sources) {
      const st = s.entry.stat;
      if (s.archive) {
        await this.flush(changes, rootfs);
        await extractInto(s.entry.abs, rootfs, destPath);
        continue;
      }
      if (st.isDirectory()) {
        const destAbs = resolveInRoot(rootfs, destPath);
        const base = relOf(destAbs);
        if (!fs.existsSync(destAbs) && base !== "") {
          changes.push(this.change(base, s.entry, uid, gid));
        }
        for (const e of s.tree.walk(s.entry.rel, s.entry.abs)) {
          if (e.rel === s.entry.rel) continue;
          const sub = e.rel.slice(s.entry.rel === "" ? 0 : s.entry.rel.length + 1);
          changes.push(this.change(base === "" ? sub : `${base}/${sub}`, e, uid, gid));
        }
        continue;
      }
      const existingDir = resolveInRoot(rootfs, destPath);
      const intoDir =
        destIsDir ||
        destPath === "/" ||
        fs.statSync(existingDir, { throwIfNoEntry: false })?.isDirectory();
      const name = s.name ?? s.entry.name ?? path.posix.basename(s.entry.rel);
      const target = intoDir
        ? path.join(existingDir, name)
        : path.join(
            resolveInRoot(rootfs, path.posix.dirname(destPath)),
            path.posix.basename(destPath),
          );
      changes.push(this.change(relOf(target), s.entry, uid, gid));
    }
    await this.flush(changes, rootfs);
  }

  /** Remove temporary files (heredocs, downloads). */
  dispose(): void {
    for (const d of this.cleanup) fs.rmSync(d, { recursive: true, force: true });
  }

  private change(rel: string, e: SourceEntry, uid: number, gid: number): LayerChange {
    if (rel === "" || rel.startsWith("../")) {
      throw new InvalidArgumentError(
        `${this.instr.keyword}: destination "${rel}" is outside the image`,
      );
    }
    return {
      kind: "add",
      path: rel,
      sourcePath: e.abs,
      stat: restat(e.stat, uid, gid, this.chmod),
    };
  }

  private async flush(changes: LayerChange[], rootfs: string): Promise<void> {
    if (changes.length === 0) return;
    const batch = changes.splice(0);
    // Parents first: writeLayerTar keeps the order, applyLayerTar creates missing parents.
    const pipe = new PassThrough({ highWaterMark: 1 << 20 });
    // Copied files are files: one named .wh.x is no whiteout (docker copies it as it is).
    const extracting = applyLayerTar(pipe, rootfs, { sameOwner: true, whiteouts: false });
    extracting.catch(() => pipe.destroy());
    const sink: ByteSink = {
      async write(chunk) {
        if (!pipe.write(chunk)) await Promise.race([once(pipe, "drain"), extracting]);
      },
    };
    try {
      await writeLayerTar(batch, sink);
      pipe.end();
      await extracting;
    } catch (err) {
      pipe.destroy();
      await extracting.catch(() => {});
      throw err;
    }
  }
}

/** A copy of `st` with the owner (and permission bits) a COPY gives the entry. */
function restat(st: fs.Stats, uid: number, gid: number, chmod: number | undefined): fs.Stats {
  const out = Object.assign(Object.create(Object.getPrototypeOf(st)) as fs.Stats, st);
  out.uid = uid;
  out.gid = gid;
  if (chmod !== undefined && !st.isSymbolicLink()) out.mode = (st.mode & ~0o7777) | chmod;
  return out;
}

function fileSource(dir: string, name: string, content: string | Buffer): ResolvedSource {
  const abs = path.join(dir, name);
  const tree = new SourceTree(dir);
  return {
    tree,
    entry: { rel: name, abs, stat: fs.lstatSync(abs) },
    hash: createHash("sha256").update(content).digest("hex"),
    archive: false,
    name,
  };
}

/** ADD of a URL: download it (as docker, mode 0600, mtime from Last-Modified). */
async function download(url: string, dir: string): Promise<ResolvedSource> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (err) {
    throw new InvalidArgumentError(`failed to GET ${url}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!res.ok) {
    throw new InvalidArgumentError(
      `failed to GET ${url} with status ${res.status} ${res.statusText}`,
    );
  }
  const body = Buffer.from(await res.arrayBuffer());
  let name = path.posix.basename(new URL(url).pathname);
  if (name === "" || name === "/" || name === "..") name = "__unnamed__";
  const file = path.join(dir, name);
  fs.writeFileSync(file, body, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  const lm = res.headers.get("last-modified");
  if (lm && !Number.isNaN(Date.parse(lm))) {
    const t = new Date(lm);
    fs.utimesSync(file, t, t);
  }
  const src = fileSource(dir, name, body);
  return src;
}

type ArchiveKind = "tar" | "gzip" | "bzip2" | "xz";

/** What kind of archive a local ADD source is, by its magic bytes; undefined: a plain file. */
export function archiveKind(file: string): ArchiveKind | undefined {
  const fd = fs.openSync(file, "r");
  const head = Buffer.alloc(512);
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 512, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (n >= 3 && head.subarray(0, 3).toString("latin1") === "BZh") return "bzip2";
  if (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
    return "xz";
  if (n >= 262 && head.subarray(257, 262).toString("latin1") === "ustar") return "tar";
  return undefined;
}

/** Unpack a local archive into `destPath` of the tree at `rootfs`, through the guarded applier. */
async function extractInto(file: string, rootfs: string, destPath: string): Promise<void> {
  const kind = archiveKind(file)!;
  const destAbs = resolveInRoot(rootfs, destPath);
  const rel = path.relative(rootfs, destAbs).split(path.sep).join("/");
  if (rel.startsWith(".."))
    throw new InvalidArgumentError(`ADD: destination "${destPath}" is outside the image`);
  if (rel !== "") {
    new TreeGuard(rootfs).parents(`${rel}/x`, true);
    const st = fs.lstatSync(destAbs, { throwIfNoEntry: false });
    if (!st) fs.mkdirSync(destAbs, 0o755);
    else if (!st.isDirectory())
      throw new InvalidArgumentError(`ADD: cannot unpack into "${destPath}": not a directory`);
  }
  const raw = fs.createReadStream(file);
  let stream: AsyncIterable<Uint8Array>;
  let child: ReturnType<typeof spawn> | undefined;
  if (kind === "tar") stream = raw;
  else if (kind === "gzip") stream = raw.pipe(createGunzip());
  else {
    child = spawn(kind === "bzip2" ? "bzip2" : "xz", ["-dc"], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    raw.pipe(child.stdin!);
    stream = child.stdout as Readable;
  }
  try {
    await applyLayerTar(stream, destAbs, { sameOwner: true, whiteouts: false });
  } finally {
    child?.kill();
    raw.destroy();
  }
}
