import * as fs from "node:fs/promises";
import * as path from "node:path";
import { processAlive } from "../util/process.js";
import type { SnapshotMetaStore, SnapshotRecord } from "./snapshot-meta-store.js";

/** Options of {@link verifySnapshotDirs}. */
export interface VerifySnapshotDirsOptions {
  /** Whether snapshot `rec` owns a directory (default: every snapshot does). */
  hasDir?: (rec: SnapshotRecord) => boolean;
  /** Work areas whose entries are named `<pid>-…` (staging, removal): a dead pid's is a leftover. */
  workAreas?: string[];
}

/**
 * A driver's `Snapshotter.verify` for the usual layout — one directory per snapshot id under
 * `dir`, bookkept by a {@link SnapshotMetaStore}: records whose directory is missing,
 * directories no record owns, and leftovers of dead processes in the work areas. Read only.
 * A snapshot being created by a live process at that moment may show as missing.
 * @returns one sentence per problem.
 */
export async function verifySnapshotDirs(
  meta: SnapshotMetaStore,
  dir: string,
  opts: VerifySnapshotDirsOptions = {},
): Promise<string[]> {
  const problems: string[] = [];
  const records = meta.list();
  const entries = new Set(await fs.readdir(dir).catch(() => [] as string[]));
  const ids = new Set<string>();
  for (const rec of records) {
    ids.add(String(rec.id));
    if ((opts.hasDir?.(rec) ?? true) && !entries.has(String(rec.id))) {
      problems.push(
        `snapshot "${rec.name}" (${rec.kind}): its directory ${path.join(dir, String(rec.id))} is missing`,
      );
    }
  }
  for (const name of entries) {
    if (!ids.has(name))
      problems.push(`directory ${path.join(dir, name)}: no snapshot record owns it`);
  }
  for (const area of opts.workAreas ?? []) {
    for (const name of await fs.readdir(area).catch(() => [] as string[])) {
      const pid = Number(name.split("-")[0]);
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
      problems.push(`${path.join(area, name)}: left by a process that is gone`);
    }
  }
  return problems;
}
