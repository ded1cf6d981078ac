import * as path from "node:path";
import type { ContentStore, ContentWriter } from "../content/content-store.js";
import { sha256Digest } from "../content/digest.js";
import { cleanLayerPath } from "../diff/tree-guard.js";
import { InvalidArgumentError } from "../errors.js";
import { readTar, type TarEntry } from "../util/tar-reader.js";
import { ArchiveFiles, MAX_JSON_SIZE } from "./archive-format.js";
import { type LayerFacts, LayerProbe } from "./layer-probe.js";

/**
 * One regular file of an archive after the streaming pass:
 * - `memory`: small (metadata, configs, manifests, tiny layers), held as bytes;
 * - `spooled`: written into the content store's ingest, not committed yet;
 * - `present`: a blob the store already has, so its bytes were skipped (or dropped).
 * `facts` describe the file as a layer when it was streamed (memory files are probed later).
 */
export type ArchiveFile =
  | { kind: "memory"; path: string; digest: string; size: number; data: Buffer }
  | {
      kind: "spooled";
      path: string;
      digest: string;
      size: number;
      writer: ContentWriter;
      facts?: LayerFacts;
      error?: Error;
    }
  | { kind: "present"; path: string; digest: string; size: number; facts?: LayerFacts };

/** Progress of one large file being read from the archive (a layer, usually). */
export interface LoadProgress {
  /** Short ID shown before the bar: 12 hex digits of the blob or legacy layer ID. */
  id: string;
  current: number;
  total: number;
}

/** Options of {@link spoolArchive}. */
export interface SpoolOptions {
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
}

/** Files held in memory: anything this small, and JSON up to {@link MAX_JSON_SIZE}. */
const SMALL_FILE = 64 * 1024;
/** Total bytes of files held in memory before the archive is refused. */
const MAX_MEMORY = 256 * 1024 * 1024;
const BLOB_PATH_RE = /^blobs\/sha256\/([a-f0-9]{64})$/;
const ID_PATH_RE = /^([a-f0-9]{12})[a-f0-9]*(?:\/layer\.tar|\.tar)$/;

/**
 * The archive after its single streaming pass: every regular file by its cleaned path,
 * and the links (symlinks and hardlinks, as docker's and skopeo's writers make for
 * duplicate layers) between paths.
 */
export class SpooledArchive {
  readonly files = new Map<string, ArchiveFile>();
  readonly links = new Map<string, string>();

  /**
   * The file at `p` (cleaned), following links inside the archive.
   * @throws InvalidArgumentError when `p` escapes the archive or links loop.
   */
  lookup(p: string, what: string): ArchiveFile | undefined {
    let cur = cleanLayerPath(p, what);
    for (let hops = 0; hops < 16; hops++) {
      const file = this.files.get(cur);
      if (file) return file;
      const next = this.links.get(cur);
      if (next === undefined) return undefined;
      cur = next;
    }
    throw new InvalidArgumentError(`${what}: "${p}": too many levels of links`);
  }

  /** Abort every ingest write that was not committed; nothing of them stays. */
  async discard(): Promise<void> {
    for (const f of this.files.values()) if (f.kind === "spooled") await f.writer.abort();
  }
}

/**
 * Read an image archive in one streaming pass, in whatever order its entries come.
 * Metadata and small files are kept in memory; other files are written into the content
 * store's ingest as they pass, hashed (and probed as layers) on the way, and left
 * uncommitted; a `blobs/sha256/<hex>` file is checked against its name as soon as it
 * ends, and skipped unread when the store already has it. Paths that escape the archive
 * (absolute, `..`), links pointing outside it, device nodes and duplicate entries are
 * refused. On failure every ingest write is aborted.
 * @throws InvalidArgumentError for a malformed, truncated or hostile archive.
 */
export async function spoolArchive(
  content: ContentStore,
  source: AsyncIterable<Uint8Array>,
  opts: SpoolOptions = {},
): Promise<SpooledArchive> {
  const archive = new SpooledArchive();
  let memory = 0;
  try {
    for await (const entry of readTar(source)) {
      opts.signal?.throwIfAborted();
      const { header } = entry;
      const name = cleanLayerPath(header.name, "archive entry");
      if (header.type === "dir") continue;
      if (archive.files.has(name) || archive.links.has(name)) {
        throw new InvalidArgumentError(`archive entry "${header.name}": appears twice`);
      }
      if (header.type === "symlink" || header.type === "link") {
        archive.links.set(name, linkTarget(name, header.linkname ?? "", header.type));
        continue;
      }
      if (header.type !== "file") {
        throw new InvalidArgumentError(
          `archive entry "${header.name}": a ${header.type} device has no place in an image archive`,
        );
      }
      const file = await readFile(content, entry, name, opts);
      if (file.kind === "memory") {
        memory += file.size;
        if (memory > MAX_MEMORY) {
          throw new InvalidArgumentError(
            `archive: more than ${MAX_MEMORY >> 20} MiB of metadata; refusing to hold it in memory`,
          );
        }
      }
      archive.files.set(name, file);
    }
  } catch (err) {
    await archive.discard();
    if (err instanceof InvalidArgumentError && !err.message.startsWith("archive")) {
      throw new InvalidArgumentError(`invalid image archive: ${err.message}`, { cause: err });
    }
    throw err;
  }
  return archive;
}

/** Where a link entry points, as a cleaned archive path. */
function linkTarget(name: string, target: string, type: "symlink" | "link"): string {
  const what = `archive entry "${name}"`;
  if (target.startsWith("/")) {
    throw new InvalidArgumentError(`${what}: link to the absolute path "${target}"`);
  }
  const joined = type === "symlink" ? path.posix.join(path.posix.dirname(name), target) : target;
  const norm = path.posix.normalize(joined);
  if (norm === ".." || norm.startsWith("../")) {
    throw new InvalidArgumentError(`${what}: link "${target}" points outside the archive`);
  }
  return cleanLayerPath(norm, what);
}

function isMetadataName(name: string): boolean {
  return (
    name === ArchiveFiles.Manifest ||
    name === ArchiveFiles.Index ||
    name === ArchiveFiles.Repositories ||
    name === ArchiveFiles.OciLayout ||
    name.endsWith(".json") ||
    path.posix.basename(name) === "json"
  );
}

async function readFile(
  content: ContentStore,
  entry: TarEntry,
  name: string,
  opts: SpoolOptions,
): Promise<ArchiveFile> {
  const size = entry.header.size;
  const named = BLOB_PATH_RE.exec(name);
  const expected = named ? `sha256:${named[1]}` : undefined;
  if (expected && (await content.has(expected))) {
    return { kind: "present", path: name, digest: expected, size };
  }
  const chunks = entry.chunks(1 << 20);
  const first = await chunks.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
  const json = head[0] === 0x7b || head[0] === 0x5b; // `{` or `[`
  const metadata = isMetadataName(name);
  if (
    size <= SMALL_FILE ||
    (json && size <= MAX_JSON_SIZE) ||
    (metadata && size <= MAX_JSON_SIZE)
  ) {
    const parts = [head];
    for await (const c of chunks) parts.push(Buffer.from(c));
    const data = Buffer.concat(parts);
    const digest = sha256Digest(data);
    if (expected && digest !== expected) throw nameMismatch(entry, digest);
    return { kind: "memory", path: name, digest, size, data };
  }
  if (metadata) {
    throw new InvalidArgumentError(
      `archive entry "${entry.header.name}": ${size} bytes is too large for a metadata file (at most ${MAX_JSON_SIZE >> 20} MiB)`,
    );
  }

  const writer = await content.writer(expected ? { digest: expected, size } : { size });
  const probe = new LayerProbe();
  const id = expected?.slice(7, 19) ?? ID_PATH_RE.exec(name)?.[1] ?? name;
  let current = 0;
  try {
    const feed = async (c: Buffer) => {
      opts.signal?.throwIfAborted();
      await Promise.all([writer.write(c), probe.push(c)]);
      current += c.length;
      opts.onProgress?.({ id, current, total: size });
    };
    if (head.length > 0) await feed(head);
    for await (const c of chunks) await feed(c);
    const digest = await writer.seal();
    if (expected && digest !== expected) throw nameMismatch(entry, digest);
    const facts = await probe.finish(digest);
    const known = { path: name, digest, size, ...(facts ? { facts } : {}) };
    if (!expected && (await content.has(digest))) {
      await writer.abort();
      return { kind: "present", ...known };
    }
    return { kind: "spooled", ...known, writer, ...(probe.error ? { error: probe.error } : {}) };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

function nameMismatch(entry: TarEntry, digest: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `archive entry "${entry.header.name}": digest mismatch: its content hashes to ${digest}`,
  );
}
