import type { Stats } from "node:fs";

/**
 * What happened to one path, as a layer records it.
 * - `add` / `modify`: the path's current state is written (both are the same in a tar;
 *   the distinction is for `docker diff`-style reports).
 * - `delete`: the path is gone; written as a `.wh.<name>` whiteout.
 * - `opaque`: the directory at `path` hides everything below it in lower layers; written
 *   as `<path>/.wh..wh..opq` (native differs of union filesystems produce it; give the
 *   directory's own `add`/`modify` first).
 */
export type LayerChangeKind = "add" | "modify" | "delete" | "opaque";

/**
 * One change fed to {@link writeLayerTar}: the input a differ produces, naive or native.
 *
 * `path` is relative to the tree's root, `/`-separated, without a leading `/` or `./`
 * (`etc/passwd`). For `add` and `modify`, `sourcePath` is the file to read metadata and
 * content from; `stat`, `xattrs` and `linkTarget`, when given, save re-reading them.
 */
export interface LayerChange {
  kind: LayerChangeKind;
  path: string;
  /** Absolute path of the file holding the new state; defaults to `<sourceRoot>/<path>`. */
  sourcePath?: string;
  /** `lstat` of `sourcePath`, if the producer already has it. */
  stat?: Stats;
  /** Extended attributes of `sourcePath` (`undefined` with `stat` set means none). */
  xattrs?: ReadonlyMap<string, Buffer>;
  /** Symlink target of `sourcePath`, if already read. */
  linkTarget?: string;
}

/** A `docker diff`-style change kind: added, changed, deleted. */
export type FilesystemChangeKind = "A" | "C" | "D";

/** One line of `docker diff`: `{kind: "C", path: "/etc"}`. */
export interface FilesystemChange {
  kind: FilesystemChangeKind;
  /** Absolute path inside the container's filesystem, e.g. `/etc/passwd`. */
  path: string;
}
