import {
  getAttributeSync,
  listAttributesSync,
  removeAttributeSync,
  setAttributeSync,
} from "@napi-rs/xattr";

/**
 * Read all extended attributes of `p` without following a symlink at `p` (the binding
 * calls `llistxattr`/`lgetxattr`). A filesystem without xattr support reads as none.
 * @returns a map sorted by name, or `undefined` when there are none.
 */
export function readXattrs(
  p: string,
  filter?: (name: string) => boolean,
): Map<string, Buffer> | undefined {
  let names: string[];
  try {
    names = listAttributesSync(p);
  } catch (err) {
    if (isUnsupported(err)) return undefined;
    throw err;
  }
  if (names.length === 0) return undefined;
  let out: Map<string, Buffer> | undefined;
  for (const name of names.sort()) {
    if (filter && !filter(name)) continue;
    const v = getAttributeSync(p, name);
    if (v === null) continue; // removed between list and get
    out ??= new Map();
    out.set(name, v);
  }
  return out;
}

/** Set one extended attribute on `p` itself (a symlink is not followed). */
export function writeXattr(p: string, name: string, value: Uint8Array): void {
  setAttributeSync(p, name, value);
}

/** Remove one extended attribute from `p` itself; a missing attribute is not an error. */
export function removeXattr(p: string, name: string): void {
  try {
    removeAttributeSync(p, name);
  } catch (err) {
    if (!/ENODATA|\(os error 61\)/.test(errorText(err))) throw err;
  }
}

/** True when two xattr sets (as {@link readXattrs} returns them) are equal. */
export function sameXattrs(
  a: ReadonlyMap<string, Buffer> | undefined,
  b: ReadonlyMap<string, Buffer> | undefined,
): boolean {
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  if (!a || !b) return true;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w?.equals(v)) return false;
  }
  return true;
}

/**
 * True for the errors a filesystem without (this kind of) xattr support raises. The
 * binding reports errno only in its message: `Operation not supported (os error 95)`.
 */
export function isUnsupported(err: unknown): boolean {
  return /ENOTSUP|EOPNOTSUPP|\(os error 95\)/.test(errorText(err));
}

/** True when setting an xattr was refused for lack of privilege (EPERM, e.g. `trusted.*`). */
export function isNotPermitted(err: unknown): boolean {
  return /EPERM|\(os error 1\)/.test(errorText(err));
}

function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string } | undefined;
  return `${e?.code ?? ""} ${e?.message ?? ""}`;
}
