/** One thing `system check` found. */
export interface CheckFinding {
  /** `problem`: the store is inconsistent; `note`: nothing wrong, but space to reclaim or work in progress. */
  severity: "problem" | "note";
  /** What it is about: `blob sha256:…`, `image sha256:…`, `tag …`, `snapshot "…"`, `mount …`. */
  subject: string;
  /** What is wrong with it. */
  message: string;
}

/** What {@link StoreChecker.check} found, and with `repair` what it did. */
export interface StoreCheckReport {
  /** The driver whose snapshots were checked. */
  driver: string;
  /** Blobs whose digest was verified, and their bytes. */
  blobs: { count: number; bytes: number };
  images: number;
  containers: number;
  snapshots: number;
  /** Everything found (after the repair, when one was asked for). */
  findings: CheckFinding[];
  /** How many findings are problems. */
  problems: number;
  /** What the repair did, one sentence each. */
  repairs: string[];
}

/**
 * A finding with the repair that removes it, when there is one.
 * @internal shared by the checker's parts.
 */
export interface Found extends CheckFinding {
  /** When its repair runs (lower first: unmount before removing snapshots, …). */
  order: number;
  fix?: () => Promise<string | undefined>;
}
