import * as fs from "node:fs";
import * as path from "node:path";
import { breather } from "../util/event-loop.js";
import { type FileMeta, metaDiffers, readFileMetaSync } from "./file-meta.js";
import type { FilesystemChange, LayerChange } from "./layer-change.js";

/** Options of {@link walkChanges} and {@link computeChanges}. */
export interface WalkChangesOptions {
  /** Stop the walk (the generator throws the signal's reason). */
  signal?: AbortSignal;
  /** Which xattrs count (compared and carried in the changes); default all. */
  xattrFilter?: (name: string) => boolean;
}

/**
 * Walk `lowerDir` and `upperDir` together and yield what turns the first into the second,
 * in path order with parents before children (a depth-first walk, names sorted within
 * each directory). This is moby's naive `ChangesDirs` done as one streaming merge walk:
 *
 * - a path only in `upperDir` is an `add`, and so is everything below it;
 * - a path only in `lowerDir` is a `delete`, and nothing below it is reported;
 * - a path in both is a `modify` when {@link metaDiffers} says so (a type change is a
 *   modify; below a directory that replaced a file everything is an `add`);
 * - an unchanged directory with changes below it is yielded as a `modify` before them, so
 *   a layer carries its permissions (moby does the same).
 *
 * `add` and `modify` changes carry `sourcePath` (in `upperDir`), `stat`, `xattrs` and, for
 * symlinks, `linkTarget`, so {@link writeLayerTar} need not read them again. The roots
 * themselves are not compared. Either directory may be empty or missing; a `lowerDir` of
 * null stands for an empty tree (every path of `upperDir` is an `add`).
 *
 * Metadata is read with synchronous calls, letting the event loop run every few hundred
 * paths (`util/event-loop.ts` says why).
 */
export async function* walkChanges(
  lowerDir: string | null,
  upperDir: string,
  opts: WalkChangesOptions = {},
): AsyncGenerator<LayerChange> {
  const pending: { rel: string; meta: FileMeta; emitted: boolean }[] = [];
  const filter = opts.xattrFilter;
  const breathe = breather();
  yield* walkDir("", lowerDir !== null);

  /** Yield ancestors that were held back until something below them changed. */
  function* flush(): Generator<LayerChange> {
    for (const p of pending) {
      if (p.emitted) continue;
      p.emitted = true;
      yield upperChange("modify", p.rel, p.meta);
    }
  }

  function upperChange(kind: "add" | "modify", rel: string, meta: FileMeta): LayerChange {
    const c: LayerChange = {
      kind,
      path: rel,
      sourcePath: path.join(upperDir, rel),
      stat: meta.stat,
    };
    if (meta.xattrs) c.xattrs = meta.xattrs;
    if (meta.linkTarget !== undefined) c.linkTarget = meta.linkTarget;
    return c;
  }

  async function* walkDir(rel: string, lowerExists: boolean): AsyncGenerator<LayerChange> {
    opts.signal?.throwIfAborted();
    const upperNames = readNames(path.join(upperDir, rel));
    const lowerNames = lowerExists && lowerDir !== null ? readNames(path.join(lowerDir, rel)) : [];
    const lowerSet = new Set(lowerNames);
    const upperSet = new Set(upperNames);
    const all =
      lowerNames.length === 0
        ? upperNames.sort()
        : [...new Set([...upperNames, ...lowerNames])].sort();
    for (const name of all) {
      const child = rel ? `${rel}/${name}` : name;
      const upper = upperSet.has(name)
        ? readFileMetaSync(path.join(upperDir, child), filter)
        : undefined;
      const lower =
        lowerDir !== null && lowerSet.has(name)
          ? readFileMetaSync(path.join(lowerDir, child), filter)
          : undefined;
      await breathe(lower ? 2 : 1);
      if (!upper) {
        if (!lower) continue; // vanished on both sides while we looked
        yield* flush();
        yield { kind: "delete", path: child };
        continue;
      }
      if (!lower) {
        yield* flush();
        yield upperChange("add", child, upper);
        if (upper.stat.isDirectory()) yield* walkDir(child, false);
        continue;
      }
      const changed = metaDiffers(lower, upper);
      if (changed) {
        yield* flush();
        yield upperChange("modify", child, upper);
      }
      if (upper.stat.isDirectory()) {
        pending.push({ rel: child, meta: upper, emitted: changed });
        try {
          yield* walkDir(child, lower.stat.isDirectory());
        } finally {
          pending.pop();
        }
      }
    }
  }
}

/**
 * The changes between two trees as `docker diff` prints them: `A`, `C` or `D` and an
 * absolute path, sorted by path (parents first). This is what `strata diff` shows.
 */
export async function computeChanges(
  lowerDir: string,
  upperDir: string,
  opts: WalkChangesOptions = {},
): Promise<FilesystemChange[]> {
  const out: FilesystemChange[] = [];
  const kinds = { add: "A", modify: "C", delete: "D", opaque: "C" } as const;
  for await (const c of walkChanges(lowerDir, upperDir, opts)) {
    out.push({ kind: kinds[c.kind], path: `/${c.path}` });
  }
  return out;
}

function readNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
}
