import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { inject, injectable } from "tsyringe";
import { ContainerLayout } from "../container/container-layout.js";
import { ContainerRunner } from "../container/container-runner.js";
import { ContainerService } from "../container/container-service.js";
import { ContainerStore } from "../container/container-store.js";
import { ContentStore } from "../content/content-store.js";
import { chainIds } from "../content/digest.js";
import type { DriverContext } from "../driver/driver-module.js";
import { isErrorCode } from "../errors.js";
import { ImageStore } from "../image/image-store.js";
import type { ImageConfig } from "../image/image-types.js";
import { MetadataStore } from "../metadata/metadata-store.js";
import { cleanStaleTempMounts } from "../mount/mount-manager.js";
import { Tokens } from "../tokens.js";
import { run } from "../util/exec.js";
import { processAlive } from "../util/process.js";
import type { CheckFinding, Found, StoreCheckReport } from "./check-finding.js";
import { SnapshotChecker } from "./snapshot-check.js";
import { blobReferenced, StoreService } from "./store-service.js";

export type { CheckFinding, StoreCheckReport } from "./check-finding.js";

/**
 * `strata system check`: verifies the whole store — every blob against its digest
 * (streamed), every image's manifest, config and layer blobs and its layer records, tags
 * and repository digests, the selected driver's snapshots against the metadata and the
 * containers, leftover temporary files, and mounts whose owner died — and with `repair`
 * fixes what it can: corrupt blobs are deleted together with the images that need them,
 * dangling names, records, orphan snapshots and temporary files are removed, stale mounts
 * unmounted. Unreferenced blobs and unused layer snapshots are notes (space a repair
 * reclaims), not problems.
 */
@injectable()
export class StoreChecker {
  constructor(
    @inject(Tokens.StoreRoot) private readonly root: string,
    @inject(MetadataStore) private readonly meta: MetadataStore,
    @inject(ContentStore) private readonly content: ContentStore,
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(ContainerStore) private readonly containers: ContainerStore,
    @inject(Tokens.DriverContext) private readonly driver: DriverContext,
    @inject(StoreService) private readonly store: StoreService,
    @inject(ContainerRunner) private readonly runner: ContainerRunner,
    @inject(ContainerService) private readonly containerService: ContainerService,
    @inject(SnapshotChecker) private readonly snapshots: SnapshotChecker,
  ) {}

  /**
   * Check the store; with `repair`, fix what can be fixed and check again. With
   * `snapshotsOnly`, only the driver's snapshots (the store-wide part was checked through
   * another driver).
   */
  async check(opts: { repair?: boolean; snapshotsOnly?: boolean } = {}): Promise<StoreCheckReport> {
    const scan = () => (opts.snapshotsOnly ? this.scanSnapshots() : this.scan());
    let { report, found } = await scan();
    if (!opts.repair) return report;
    const repairs: string[] = [];
    for (const f of [...found].sort((a, b) => a.order - b.order)) {
      if (!f.fix) continue;
      try {
        const did = await f.fix();
        if (did) repairs.push(did);
      } catch (err) {
        repairs.push(`could not repair ${f.subject}: ${(err as Error).message}`);
      }
    }
    ({ report, found } = await scan());
    report.repairs = repairs;
    return report;
  }

  private async scan(): Promise<{ report: StoreCheckReport; found: Found[] }> {
    const found: Found[] = [];
    const blobs = await this.checkBlobs(found);
    const images = this.checkImages(found, blobs.status);
    this.checkNames(found);
    const deadBuilds = new Set((await this.store.deadBuildContainers()).map((c) => c.id));
    const containers = this.checkContainers(found, deadBuilds);
    const snapshots = await this.snapshots.check(found, deadBuilds);
    await this.checkLeftovers(found);
    await this.checkMounts(found);
    return {
      found,
      report: this.reportOf(
        found,
        { count: blobs.count, bytes: blobs.bytes },
        images,
        containers,
        snapshots,
      ),
    };
  }

  private async scanSnapshots(): Promise<{ report: StoreCheckReport; found: Found[] }> {
    const found: Found[] = [];
    const deadBuilds = new Set((await this.store.deadBuildContainers()).map((c) => c.id));
    const snapshots = await this.snapshots.check(found, deadBuilds);
    return { found, report: this.reportOf(found, { count: 0, bytes: 0 }, 0, 0, snapshots) };
  }

  private reportOf(
    found: Found[],
    blobs: { count: number; bytes: number },
    images: number,
    containers: number,
    snapshots: number,
  ): StoreCheckReport {
    const findings: CheckFinding[] = found.map(({ severity, subject, message }) => ({
      severity,
      subject,
      message,
    }));
    return {
      driver: this.driver.name,
      blobs,
      images,
      containers,
      snapshots,
      findings,
      problems: findings.filter((f) => f.severity === "problem").length,
      repairs: [],
    };
  }

  /** Hash every blob; a stray file or a corrupt blob is a problem, an unreferenced one a note. */
  private async checkBlobs(found: Found[]) {
    const dir = path.join(this.content.dir, "blobs", "sha256");
    const status = new Map<string, "ok" | "corrupt">();
    let count = 0;
    let bytes = 0;
    for (const name of (await fs.readdir(dir).catch(() => [] as string[])).sort()) {
      const file = path.join(dir, name);
      if (!/^[a-f0-9]{64}$/.test(name)) {
        found.push({
          severity: "problem",
          subject: `file ${file}`,
          message: "not a blob (its name is no sha256 digest)",
          order: 5,
          fix: async () => {
            await fs.rm(file, { recursive: true, force: true });
            return `removed ${file}`;
          },
        });
        continue;
      }
      const digest = `sha256:${name}`;
      const hash = createHash("sha256");
      let size = 0;
      try {
        for await (const chunk of createReadStream(file)) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // removed meanwhile
        throw err;
      }
      count++;
      bytes += size;
      const actual = `sha256:${hash.digest("hex")}`;
      if (actual === digest) {
        status.set(digest, "ok");
        continue;
      }
      status.set(digest, "corrupt");
      found.push({
        severity: "problem",
        subject: `blob ${digest}`,
        message: `corrupt: content hashes to ${actual}`,
        order: 2,
        fix: () => this.removeBadBlob(digest),
      });
    }
    const referenced = this.meta.read(
      (db) =>
        new Set(
          (
            db
              .prepare(
                "SELECT digest AS d FROM image_blobs UNION SELECT blob_digest FROM layers UNION SELECT blob_digest FROM layer_variants",
              )
              .all() as { d: string }[]
          ).map((r) => r.d),
        ),
    );
    for (const [digest, s] of status) {
      if (s !== "ok" || referenced.has(digest) || this.content.leasedSync(digest)) continue;
      found.push({
        severity: "note",
        subject: `blob ${digest}`,
        message: "no image uses it (left by an interrupted operation; a repair deletes it)",
        order: 9,
        fix: async () => {
          const gone = this.meta.write((db) => {
            if (blobReferenced(db, digest) || this.content.leasedSync(digest)) return false;
            const trash = this.content.trashSync(digest);
            return trash !== undefined ? trash : false;
          });
          if (gone === false) return undefined;
          await this.content.emptyTrash([gone]);
          return `deleted unreferenced blob ${digest}`;
        },
      });
    }
    return { count, bytes, status };
  }

  /** Delete a corrupt (or missing) blob and every image that needs it. */
  private async removeBadBlob(digest: string): Promise<string> {
    const users = this.meta
      .read(
        (db) =>
          db
            .prepare(
              `SELECT image_id AS id FROM image_blobs WHERE digest = ?
             UNION SELECT il.image_id FROM image_layers il JOIN layers l ON l.diff_id = il.diff_id WHERE l.blob_digest = ?
             UNION SELECT id FROM images WHERE id = ? OR manifest_digest = ?`,
            )
            .all(digest, digest, digest, digest) as { id: string }[],
      )
      .map((r) => r.id);
    const said: string[] = [];
    for (const id of users) {
      const did = await this.removeImage(id, `blob ${digest} is damaged`);
      if (did) said.push(did);
    }
    const trash = this.meta.write(() => this.content.trashSync(digest));
    await this.content.emptyTrash([trash]);
    return [`deleted corrupt blob ${digest}`, ...said].join("; ");
  }

  /** Remove an image the store cannot serve, saying why; an image a container uses stays. */
  private async removeImage(id: string, why: string): Promise<string | undefined> {
    if (!this.meta.db.prepare("SELECT 1 FROM images WHERE id = ?").get(id)) return undefined;
    const user = this.meta.db
      .prepare("SELECT id FROM containers WHERE image_id = ? LIMIT 1")
      .get(id) as { id: string } | undefined;
    if (user) {
      return `kept image ${id} (${why}): container ${user.id.slice(0, 12)} uses it; remove the container, then repair again`;
    }
    try {
      await this.images.remove(id, { force: true });
    } catch (err) {
      if (!isErrorCode(err, "NOT_FOUND")) throw err;
    }
    return `removed image ${id} (${why}); pull or load it again`;
  }

  /** Each image: its blobs present and sound, its config's layers matching its records. */
  private checkImages(found: Found[], blobs: Map<string, "ok" | "corrupt">): number {
    const { rows, layerRows, blobRows, orphanLayers } = this.meta.read((db) => ({
      rows: db.prepare("SELECT id, manifest_digest FROM images").all() as {
        id: string;
        manifest_digest: string;
      }[],
      layerRows: db
        .prepare(
          "SELECT il.image_id, il.idx, il.diff_id, il.chain_id, l.blob_digest FROM image_layers il LEFT JOIN layers l ON l.diff_id = il.diff_id ORDER BY il.image_id, il.idx",
        )
        .all() as {
        image_id: string;
        idx: number;
        diff_id: string;
        chain_id: string;
        blob_digest: string | null;
      }[],
      blobRows: db.prepare("SELECT image_id, digest FROM image_blobs").all() as {
        image_id: string;
        digest: string;
      }[],
      orphanLayers: db
        .prepare(
          "SELECT diff_id FROM layers WHERE diff_id NOT IN (SELECT diff_id FROM image_layers)",
        )
        .all() as { diff_id: string }[],
    }));
    for (const { id, manifest_digest } of rows) {
      const bad: string[] = [];
      const seen = new Set<string>();
      const need = (digest: string, what: string) => {
        if (seen.has(digest)) return;
        seen.add(digest);
        const s = blobs.get(digest);
        // Not seen by the blob scan but there now: stored since by a concurrent process.
        if (s === undefined && !existsSync(this.content.blobPath(digest))) {
          bad.push(`${what} blob ${digest} is missing`);
        } else if (s === "corrupt") bad.push(`${what} blob ${digest} is corrupt`);
      };
      need(id, "config");
      need(manifest_digest, "manifest");
      const layers = layerRows.filter((l) => l.image_id === id);
      for (const l of layers) {
        if (l.blob_digest === null) bad.push(`layer ${l.diff_id} has no layer record`);
        else need(l.blob_digest, "layer");
      }
      for (const b of blobRows) if (b.image_id === id) need(b.digest, "an owned");
      if (blobs.get(id) === "ok") {
        const diffIds =
          (JSON.parse(readFileSync(this.content.blobPath(id), "utf8")) as ImageConfig).rootfs
            ?.diff_ids ?? [];
        const chains = chainIds(diffIds);
        if (
          diffIds.length !== layers.length ||
          layers.some((l, i) => l.diff_id !== diffIds[i] || l.chain_id !== chains[i])
        ) {
          bad.push("its layer records do not match its config's rootfs.diff_ids");
        }
      }
      if (blobs.get(manifest_digest) === "ok") {
        const manifest = JSON.parse(
          readFileSync(this.content.blobPath(manifest_digest), "utf8"),
        ) as { config?: { digest?: string } };
        if (manifest.config?.digest !== undefined && manifest.config.digest !== id) {
          bad.push(`its manifest names config ${manifest.config.digest}`);
        }
      }
      if (bad.length > 0) {
        const message = bad.join("; ");
        found.push({
          severity: "problem",
          subject: `image ${id}`,
          message,
          order: 3,
          fix: () => this.removeImage(id, message),
        });
      }
    }
    for (const { diff_id } of orphanLayers) {
      found.push({
        severity: "problem",
        subject: `layer ${diff_id}`,
        message: "recorded, but no image has it",
        order: 6,
        fix: async () => {
          this.meta.write((db) =>
            db
              .prepare(
                "DELETE FROM layers WHERE diff_id = ? AND diff_id NOT IN (SELECT diff_id FROM image_layers)",
              )
              .run(diff_id),
          );
          return `deleted the record of layer ${diff_id}`;
        },
      });
    }
    return rows.length;
  }

  /** Tags and repository digests pointing at images that do not exist. */
  private checkNames(found: Found[]): void {
    for (const table of ["tags", "repo_digests"] as const) {
      const rows = this.meta.db
        .prepare(
          `SELECT name, image_id FROM ${table} WHERE image_id NOT IN (SELECT id FROM images)`,
        )
        .all() as { name: string; image_id: string }[];
      for (const { name, image_id } of rows) {
        found.push({
          severity: "problem",
          subject: `${table === "tags" ? "tag" : "digest reference"} ${name}`,
          message: `points at image ${image_id}, which does not exist`,
          order: 4,
          fix: async () => {
            this.meta.write((db) =>
              db
                .prepare(
                  `DELETE FROM ${table} WHERE name = ? AND image_id NOT IN (SELECT id FROM images)`,
                )
                .run(name),
            );
            return `deleted dangling ${table === "tags" ? "tag" : "digest reference"} ${name}`;
          },
        });
      }
    }
  }

  /**
   * Containers whose image is gone, and containers of builds that were killed mid-step.
   * (Their snapshots are checked with the snapshots.)
   */
  private checkContainers(found: Found[], deadBuilds: ReadonlySet<string>): number {
    for (const id of deadBuilds) {
      found.push({
        severity: "problem",
        subject: `container ${id.slice(0, 12)}`,
        message: "made by a build step whose build is gone",
        order: 1,
        fix: async () => {
          const rec = this.containers.list().find((c) => c.id === id);
          if (!rec) return undefined;
          await this.containerService.destroy(rec);
          return `removed container ${id.slice(0, 12)} of a killed build`;
        },
      });
    }
    const rows = this.meta.db
      .prepare("SELECT id, image_id FROM containers WHERE image_id NOT IN (SELECT id FROM images)")
      .all() as { id: string; image_id: string }[];
    for (const { id, image_id } of rows) {
      found.push({
        severity: "problem",
        subject: `container ${id.slice(0, 12)}`,
        message: `its image ${image_id} does not exist`,
        order: 8,
      });
    }
    return this.containers.list().length;
  }

  /** Temporary files of writers and removals that died. */
  private async checkLeftovers(found: Found[]): Promise<void> {
    for (const f of await this.content.leftovers()) {
      if (f.pid > 0 && processAlive(f.pid)) continue;
      found.push({
        severity: "problem",
        subject: `file ${f.path}`,
        message: "temporary file of a process that is gone",
        order: 0,
        fix: async () => {
          const restored = this.meta.write((db) =>
            this.content.recoverTrashSync((d) => blobReferenced(db, d)),
          ).restored;
          const n = await this.content.cleanIngest();
          return `cleaned temporary files (${n} ingest file(s) deleted, ${restored.length} blob(s) put back)`;
        },
      });
    }
  }

  /** Mounts of processes that are gone: temporary mounts, rootfs mounts of stopped containers. */
  private async checkMounts(found: Found[]): Promise<void> {
    const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
    const root = path.resolve(this.root);
    const layout = new ContainerLayout(root);
    // Running as runc sees it: a container whose monitor died may still run (a killed
    // build's RUN step), and its rootfs mount is then in use.
    const running = new Set<string>();
    for (const c of this.containers.list()) {
      if ((await this.runner.reconcile(c)).state.status === "running")
        running.add(layout.rootfs(c.id));
    }
    const tempRe = new RegExp(`^${escapeRe(path.join(os.tmpdir(), "strata-mnt-"))}(\\d+)-`);
    const seen = new Set<string>();
    for (const line of info.split("\n")) {
      const mp = decodeMountPath(line.split(" ")[4] ?? "");
      if (!mp || seen.has(mp)) continue;
      const temp = tempRe.exec(mp);
      let stale = false;
      if (temp) stale = !processAlive(Number(temp[1]));
      else if (mp.startsWith(`${root}/`)) {
        stale = ![...running].some((r) => mp === r || mp.startsWith(`${r}/`));
      }
      if (!stale) continue;
      seen.add(mp);
      found.push({
        severity: "problem",
        subject: `mount ${mp}`,
        message: "mounted by a process that is gone",
        order: 0,
        fix: async () => {
          if (temp) await cleanStaleTempMounts();
          else await run("umount", ["-l", mp]);
          return `unmounted ${mp}`;
        },
      });
    }
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function decodeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  );
}
