import { randomBytes } from "node:crypto";

/**
 * Keys of the short-lived snapshots a process makes for its own use (an `extract-…` active
 * snapshot a layer is unpacked into, a `view-…` of a container's base for diff and commit)
 * carry the maker's pid, so that when the process is killed the next start can tell them
 * from those of a process still at work and remove them.
 */
export function tempSnapshotKey(kind: "extract" | "view", label: string): string {
  return `${kind}-${process.pid}-${randomBytes(6).toString("hex")} ${label}`;
}

const TEMP_KEY_RE = /^(?:extract|view)-(\d+)-[0-9a-f]+ /;

/** The pid that made a {@link tempSnapshotKey}, or undefined for any other key. */
export function tempSnapshotOwner(key: string): number | undefined {
  const m = TEMP_KEY_RE.exec(key);
  return m ? Number(m[1]) : undefined;
}
