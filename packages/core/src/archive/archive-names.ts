import type { Descriptor } from "../content/descriptor.js";
import { parseReference, type Reference, withDefaultTag } from "../image/reference.js";
import { Annotations } from "./archive-format.js";

/** `s` parsed as an image reference, or undefined when it is not one. */
export function safeParse(s: string): Reference | undefined {
  try {
    return parseReference(s);
  } catch {
    return undefined;
  }
}

/**
 * The registry digest an index entry carries: containerd's name annotation holding a
 * digested reference to the entry's own blob (`docker.io/library/busybox@sha256:…`).
 */
export function repoDigestOf(desc: Descriptor): Reference | undefined {
  const full = desc.annotations?.[Annotations.ImageName];
  const ref = full ? safeParse(full) : undefined;
  return ref?.digest === desc.digest && ref.tag === undefined ? ref : undefined;
}

/**
 * The names an index entry gives its image: containerd's full name, else an OCI ref name
 * that is a whole reference (`busybox:1`, skopeo's way). docker writes the bare tag as the
 * ref name beside the full one; a bare tag alone (umoci's way) names nothing.
 */
export function namesOf(desc: Descriptor): Reference[] {
  if (repoDigestOf(desc)) return [];
  const full = desc.annotations?.[Annotations.ImageName];
  const ref = full ? safeParse(full) : undefined;
  if (ref && !ref.digest) return [withDefaultTag(ref)];
  const refName = desc.annotations?.[Annotations.RefName];
  if (refName && /[:/]/.test(refName)) {
    const r = safeParse(refName);
    if (r && !r.digest) return [withDefaultTag(r)];
  }
  return [];
}
