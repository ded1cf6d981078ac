import * as fs from "node:fs";
import * as path from "node:path";
import { type LayerChange, readXattrs } from "@strata/core";
import { OPAQUE_MARKER, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX } from "./union/union-tree.js";

/**
 * The changes an AUFS branch records, as layer changes: the branch already is a layer
 * tar's content. `.wh.<name>` is the deletion of `<name>`; a directory holding
 * `.wh..wh..opq` is opaque (its own `add` comes first, then `opaque`, then its entries);
 * AUFS's other `.wh..wh.*` names are its bookkeeping and left out; everything else is the
 * new state of that path. Cost grows with the branch, not with the image. Paths come
 * parents first, names sorted within each directory.
 */
export async function* aufsBranchChanges(
  branch: string,
  signal?: AbortSignal,
): AsyncGenerator<LayerChange> {
  let n = 0;
  async function* walk(rel: string): AsyncGenerator<LayerChange> {
    // Sorted by the name each entry is about (`.wh.b` by `b`), the order overlay's upper
    // directory and the naive walk give, so every differ writes the same layer bytes.
    const names = fs
      .readdirSync(path.join(branch, rel))
      .map((name) => [subjectName(name), name] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, name]) => name);
    for (const name of names) {
      if (++n % 256 === 0) {
        signal?.throwIfAborted();
        await new Promise<void>((r) => setImmediate(r));
      }
      if (name.startsWith(WHITEOUT_META_PREFIX)) continue;
      if (name.startsWith(WHITEOUT_PREFIX)) {
        const gone = name.slice(WHITEOUT_PREFIX.length);
        yield { kind: "delete", path: rel === "" ? gone : `${rel}/${gone}` };
        continue;
      }
      const relPath = rel === "" ? name : `${rel}/${name}`;
      const abs = path.join(branch, relPath);
      const st = fs.lstatSync(abs);
      const change: LayerChange = { kind: "add", path: relPath, sourcePath: abs, stat: st };
      const xattrs = readXattrs(abs);
      if (xattrs) change.xattrs = xattrs;
      if (st.isSymbolicLink()) change.linkTarget = fs.readlinkSync(abs);
      yield change;
      if (st.isDirectory()) {
        if (fs.existsSync(path.join(abs, OPAQUE_MARKER))) yield { kind: "opaque", path: relPath };
        yield* walk(relPath);
      }
    }
  }
  yield* walk("");
}

/** The name a branch entry is about: `.wh.<name>` deletes `<name>`. */
function subjectName(name: string): string {
  return name.startsWith(WHITEOUT_PREFIX) && !name.startsWith(WHITEOUT_META_PREFIX)
    ? name.slice(WHITEOUT_PREFIX.length)
    : name;
}

/** Whether the branch's root is opaque, which a layer cannot say: the naive diff must be used. */
export function rootIsOpaque(branch: string): boolean {
  return fs.existsSync(path.join(branch, OPAQUE_MARKER));
}
