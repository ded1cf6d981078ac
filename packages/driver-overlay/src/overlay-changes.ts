import * as fs from "node:fs";
import * as path from "node:path";
import { type LayerChange, readXattrs } from "@strata/core";

/** The xattr overlayfs marks an opaque directory with. */
export const OPAQUE_XATTR = "trusted.overlay.opaque";

/** Overlay's own xattrs never go into a layer. */
export function layerXattr(name: string): boolean {
  return !name.startsWith("trusted.overlay.");
}

/** True for overlay's whiteout: a character device with device number 0/0. */
export function isOverlayWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * The changes an overlay upper directory records, as layer changes (docker's overlay2
 * native diff): a 0/0 character device is a deletion, a directory with
 * `trusted.overlay.opaque=y` hides what lower layers hold below it, and everything else is
 * the new state of that path. Cost grows with the upper directory, not with the image.
 * Paths come parents first, names sorted within each directory.
 */
export async function* overlayUpperChanges(
  upperDir: string,
  signal?: AbortSignal,
): AsyncGenerator<LayerChange> {
  let n = 0;
  async function* walk(rel: string): AsyncGenerator<LayerChange> {
    const names = fs.readdirSync(path.join(upperDir, rel)).sort();
    for (const name of names) {
      if (++n % 256 === 0) {
        signal?.throwIfAborted();
        await new Promise<void>((r) => setImmediate(r));
      }
      const relPath = rel === "" ? name : `${rel}/${name}`;
      const abs = path.join(upperDir, relPath);
      const st = fs.lstatSync(abs);
      if (isOverlayWhiteout(st)) {
        yield { kind: "delete", path: relPath };
        continue;
      }
      const all = readXattrs(abs);
      const xattrs = all && new Map([...all].filter(([k]) => layerXattr(k)));
      const change: LayerChange = { kind: "add", path: relPath, sourcePath: abs, stat: st };
      if (xattrs && xattrs.size > 0) change.xattrs = xattrs;
      if (st.isSymbolicLink()) change.linkTarget = fs.readlinkSync(abs);
      yield change;
      if (st.isDirectory()) {
        if (all?.get(OPAQUE_XATTR)?.toString() === "y") yield { kind: "opaque", path: relPath };
        yield* walk(relPath);
      }
    }
  }
  yield* walk("");
}
