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
    const names = fs.readdirSync(path.join(branch, rel)).sort();
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

/** Whether the branch's root is opaque, which a layer cannot say: the naive diff must be used. */
export function rootIsOpaque(branch: string): boolean {
  return fs.existsSync(path.join(branch, OPAQUE_MARKER));
}
