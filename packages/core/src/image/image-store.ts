import * as fs from "node:fs";
import { inject, injectable } from "tsyringe";
import { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { chainIds, sha256Digest } from "../content/digest.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { type Db, MetadataStore } from "../metadata/metadata-store.js";
import { crashPoint } from "../util/crash-point.js";
import { importRootfs } from "./image-importer.js";
import { imageInspect } from "./image-inspect.js";
import type {
  ImageConfig,
  ImageHistoryItem,
  ImageManifest,
  ImageRecord,
  ImportOptions,
  LayerRecord,
  RemovedItem,
} from "./image-types.js";
import { LayerUnpacker } from "./layer-unpacker.js";
import { MediaTypes } from "./media-types.js";
import {
  familiarString,
  fullName,
  parseReference,
  parseTagTarget,
  type Reference,
  referenceString,
  withDefaultTag,
} from "./reference.js";

/** What {@link ImageStore.addImage} needs to record an image. */
export interface NewImage {
  /** The config's exact bytes (the image ID is their digest). */
  config: Uint8Array;
  /** Layers bottom first; their blobs must already be in the content store. */
  layers: { diffId: string; blob: Descriptor; size: number }[];
  /** The manifest's bytes when the image came with one (pull, load); else one is made. */
  manifest?: Uint8Array;
  /** Tags to point at the image. */
  tags?: Reference[];
  /** Parent image (commit, build). */
  parent?: string;
  /**
   * Registry digests to record (`name@sha256:…` of the manifest or index it was pulled
   * through): `images --digests` and inspect's `RepoDigests` show them, and a pull by
   * digest finds the image by them.
   */
  repoDigests?: Reference[];
  /** Other blobs the image owns and that go with it (the index it was pulled through). */
  blobs?: string[];
}

interface ImageRow {
  id: string;
  manifest_digest: string;
  created: string;
  size: number;
  parent: string | null;
  last_tag_time: string | null;
}

const ID_PREFIX_RE = /^(sha256:)?[a-f0-9]{1,64}$/;

/**
 * The image store: images, their tags and layers, driver-independent. Blobs live in the
 * content store; the metadata database links them. Every change is one transaction, and
 * blobs an image no longer needs are deleted inside the same transaction that forgets it,
 * so a concurrent writer never links a blob that is being deleted.
 */
@injectable()
export class ImageStore {
  constructor(
    @inject(ContentStore) readonly content: ContentStore,
    @inject(MetadataStore) private readonly meta: MetadataStore,
    @inject(LayerUnpacker) readonly unpacker: LayerUnpacker,
  ) {}

  /** Import a root filesystem tarball as a one-layer image (`docker import`). */
  importImage(source: AsyncIterable<Uint8Array>, opts: ImportOptions): Promise<ImageRecord> {
    return importRootfs(this, source, opts);
  }

  /**
   * Record an image whose blobs are in the content store: writes its config (and a docker
   * schema 2 manifest when none is given), links layers and tags, in one transaction.
   * @throws FailedPreconditionError when a layer blob vanished meanwhile (a concurrent rmi).
   */
  async addImage(img: NewImage): Promise<ImageRecord> {
    const configInfo = await this.content.put(img.config);
    const config = JSON.parse(Buffer.from(img.config).toString("utf8")) as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (
      diffIds.length !== img.layers.length ||
      diffIds.some((d, i) => d !== img.layers[i]!.diffId)
    ) {
      throw new InvalidArgumentError(
        `image ${configInfo.digest}: config diff_ids do not match its layers`,
      );
    }
    const manifestBytes =
      img.manifest ??
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaTypes.DockerManifest,
          config: {
            mediaType: MediaTypes.DockerConfig,
            size: configInfo.size,
            digest: configInfo.digest,
          },
          layers: img.layers.map((l) => ({
            mediaType: l.blob.mediaType,
            size: l.blob.size,
            digest: l.blob.digest,
          })),
        } satisfies ImageManifest),
      );
    const manifestInfo = await this.content.put(manifestBytes);
    crashPoint("after-blob-before-metadata");
    const chains = chainIds(diffIds);
    const id = configInfo.digest;
    const size = img.layers.reduce((n, l) => n + l.size, 0);
    const own = [
      configInfo.digest,
      manifestInfo.digest,
      ...img.layers.map((l) => l.blob.digest),
      ...(img.blobs ?? []),
    ];
    try {
      this.recordImage(img, config, configInfo.digest, manifestInfo.digest, chains, size);
    } finally {
      this.content.release(own);
    }
    return this.resolve(id);
  }

  private recordImage(
    img: NewImage,
    config: ImageConfig,
    id: string,
    manifestDigest: string,
    chains: string[],
    size: number,
  ): void {
    const now = new Date().toISOString();
    const configInfo = { digest: id };
    const manifestInfo = { digest: manifestDigest };
    this.meta.write((db) => {
      for (const d of [
        configInfo.digest,
        manifestInfo.digest,
        ...img.layers.map((l) => l.blob.digest),
      ]) {
        if (!this.blobExistsSync(d)) {
          throw new FailedPreconditionError(
            `blob ${d}: removed while the image was being stored; try again`,
          );
        }
      }
      db.prepare(
        "INSERT OR IGNORE INTO images(id, manifest_digest, created, size, parent, added) VALUES (?, ?, ?, ?, ?, ?)",
      ).run(
        id,
        manifestInfo.digest,
        config.created ?? new Date(0).toISOString(),
        size,
        img.parent ?? null,
        now,
      );
      const addLayer = db.prepare(
        "INSERT OR IGNORE INTO layers(diff_id, blob_digest, blob_media_type, blob_size, size) VALUES (?, ?, ?, ?, ?)",
      );
      const addImageLayer = db.prepare(
        "INSERT OR IGNORE INTO image_layers(image_id, idx, diff_id, chain_id) VALUES (?, ?, ?, ?)",
      );
      const addBlob = db.prepare(
        "INSERT OR IGNORE INTO image_blobs(image_id, digest) VALUES (?, ?)",
      );
      img.layers.forEach((l, i) => {
        addLayer.run(l.diffId, l.blob.digest, l.blob.mediaType, l.blob.size, l.size);
        addImageLayer.run(id, i, l.diffId, chains[i]);
        addBlob.run(id, l.blob.digest);
      });
      addBlob.run(id, configInfo.digest);
      addBlob.run(id, manifestInfo.digest);
      for (const d of img.blobs ?? []) {
        if (!this.blobExistsSync(d)) {
          throw new FailedPreconditionError(
            `blob ${d}: removed while the image was being stored; try again`,
          );
        }
        addBlob.run(id, d);
      }
      for (const t of img.tags ?? []) this.setTag(db, t, id, now);
      for (const r of img.repoDigests ?? []) this.setRepoDigest(db, r, id);
      crashPoint("mid-transaction");
    });
  }

  private blobExistsSync(digest: string): boolean {
    try {
      return fs.statSync(this.content.blobPath(digest)).isFile();
    } catch {
      return false;
    }
  }

  private setTag(db: Db, ref: Reference, id: string, now: string): void {
    db.prepare(
      "INSERT INTO tags(name, image_id, created) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, created = excluded.created",
    ).run(referenceString(withDefaultTag(ref)), id, now);
    db.prepare("UPDATE images SET last_tag_time = ? WHERE id = ?").run(now, id);
  }

  private setRepoDigest(db: Db, ref: Reference, id: string): void {
    if (!ref.digest) throw new InvalidArgumentError(`repo digest "${fullName(ref)}": no digest`);
    db.prepare(
      "INSERT INTO repo_digests(name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
    ).run(referenceString({ domain: ref.domain, path: ref.path, digest: ref.digest }), id);
  }

  /**
   * Record that image `id` also owns `digests` (blobs already in the content store, such
   * as a layer's compressed variant made for a push), so they go when the image goes.
   * @throws NotFoundError when the image is gone.
   */
  linkBlobs(id: string, digests: readonly string[]): void {
    this.meta.write((db) => {
      if (!db.prepare("SELECT 1 FROM images WHERE id = ?").get(id)) {
        throw new NotFoundError(`No such image: ${id}`);
      }
      const add = db.prepare("INSERT OR IGNORE INTO image_blobs(image_id, digest) VALUES (?, ?)");
      for (const d of digests) add.run(id, d);
    });
  }

  /** Record registry digests (`name@sha256:…`) for image `id` (after a push). */
  addRepoDigests(id: string, refs: readonly Reference[]): void {
    this.meta.write((db) => {
      for (const r of refs) this.setRepoDigest(db, r, id);
    });
  }

  /**
   * The stored layer with this diff ID whose blob is still in the content store, if any
   * (a pull skips downloading it: docker's "Already exists").
   */
  findLayer(diffId: string): { diffId: string; blob: Descriptor; size: number } | undefined {
    const row = this.meta.db
      .prepare(
        "SELECT diff_id, blob_digest, blob_media_type, blob_size, size FROM layers WHERE diff_id = ?",
      )
      .get(diffId) as
      | {
          diff_id: string;
          blob_digest: string;
          blob_media_type: string;
          blob_size: number;
          size: number;
        }
      | undefined;
    if (!row || !this.blobExistsSync(row.blob_digest)) return undefined;
    return {
      diffId: row.diff_id,
      blob: { mediaType: row.blob_media_type, digest: row.blob_digest, size: row.blob_size },
      size: row.size,
    };
  }

  /** Every image, newest first. */
  async list(): Promise<ImageRecord[]> {
    const rows = this.meta.read(
      (db) => db.prepare("SELECT * FROM images ORDER BY created DESC, id").all() as ImageRow[],
    );
    const out: ImageRecord[] = [];
    for (const r of rows) {
      try {
        out.push(await this.load(r));
      } catch (err) {
        // One damaged image must not hide the others: list it from the database alone and
        // say what is wrong (inspect and history fail on it with the reason).
        if (!(err instanceof InvalidArgumentError || err instanceof NotFoundError)) throw err;
        const empty: ImageConfig = {
          architecture: "",
          os: "",
          rootfs: { type: "layers", diff_ids: [] },
        };
        out.push(await this.load(r, empty, err.message));
      }
    }
    return out;
  }

  /** Number of images. */
  count(): number {
    return (this.meta.db.prepare("SELECT count(*) AS n FROM images").get() as { n: number }).n;
  }

  /**
   * Find an image by reference (`busybox`, `busybox:1`, `x@sha256:…`), full ID or unique
   * ID prefix, as docker resolves them.
   * @throws NotFoundError `No such image: <input>`; InvalidArgumentError when `input` is
   *   neither a well-formed reference nor an ID prefix (docker's "invalid reference format").
   */
  async resolve(input: string): Promise<ImageRecord> {
    const row = this.meta.read((db) => this.findRow(db, input));
    if (!row) throw new NotFoundError(`No such image: ${notFoundName(input)}`);
    return this.load(row);
  }

  private findRow(db: Db, input: string): ImageRow | undefined {
    let ref: Reference | undefined;
    try {
      ref = parseReference(input);
    } catch (err) {
      // Neither a name nor an ID (prefix): docker says why the name is malformed.
      if (!ID_PREFIX_RE.test(input)) throw err;
      ref = undefined;
    }
    if (ref) {
      const name = referenceString(withDefaultTag(ref));
      const byTag = ref.digest
        ? (db
            .prepare(
              "SELECT i.* FROM repo_digests r JOIN images i ON i.id = r.image_id WHERE r.name = ?",
            )
            .get(referenceString({ domain: ref.domain, path: ref.path, digest: ref.digest })) as
            | ImageRow
            | undefined)
        : (db
            .prepare("SELECT i.* FROM tags t JOIN images i ON i.id = t.image_id WHERE t.name = ?")
            .get(name) as ImageRow | undefined);
      if (byTag) return byTag;
    }
    if (ID_PREFIX_RE.test(input)) {
      const hex = input.replace(/^sha256:/, "");
      const rows = db
        .prepare("SELECT * FROM images WHERE id >= ? AND id < ? LIMIT 2")
        .all(`sha256:${hex}`, `sha256:${hex}g`) as ImageRow[];
      if (rows.length === 1) return rows[0];
      if (rows.length > 1)
        throw new InvalidArgumentError(`image ID prefix "${input}" is ambiguous`);
    }
    return undefined;
  }

  private async load(
    row: ImageRow,
    fallback?: ImageConfig,
    problem?: string,
  ): Promise<ImageRecord> {
    const config =
      fallback ??
      (JSON.parse((await this.content.readVerified(row.id)).toString("utf8")) as ImageConfig);
    const { tags, digests, layers } = this.meta.read((db) => ({
      tags: (
        db.prepare("SELECT name FROM tags WHERE image_id = ?").all(row.id) as { name: string }[]
      ).map((r) => r.name),
      digests: (
        db.prepare("SELECT name FROM repo_digests WHERE image_id = ?").all(row.id) as {
          name: string;
        }[]
      ).map((r) => r.name),
      layers: db
        .prepare(
          "SELECT il.diff_id, il.chain_id, l.blob_digest, l.blob_media_type, l.blob_size, l.size FROM image_layers il JOIN layers l ON l.diff_id = il.diff_id WHERE il.image_id = ? ORDER BY il.idx",
        )
        .all(row.id) as {
        diff_id: string;
        chain_id: string;
        blob_digest: string;
        blob_media_type: string;
        blob_size: number;
        size: number;
      }[],
    }));
    const familiar = (n: string) => familiarString(parseReference(n));
    const rec: ImageRecord = {
      id: row.id,
      config,
      manifestDigest: row.manifest_digest,
      size: row.size,
      created: new Date(row.created),
      repoTags: tags.map(familiar).sort(),
      repoDigests: digests.map(familiar).sort(),
      layers: layers.map(
        (l): LayerRecord => ({
          diffId: l.diff_id,
          chainId: l.chain_id,
          blob: { mediaType: l.blob_media_type, digest: l.blob_digest, size: l.blob_size },
          size: l.size,
        }),
      ),
    };
    if (problem) rec.problem = problem;
    if (row.parent) rec.parent = row.parent;
    if (row.last_tag_time) rec.lastTagTime = new Date(row.last_tag_time);
    return rec;
  }

  /**
   * Point `target` (`REPOSITORY[:TAG]`) at the image `source` names (`docker tag`).
   * @throws InvalidArgumentError for a malformed target; NotFoundError for a missing source.
   */
  async tag(source: string, target: string): Promise<void> {
    const ref = parseTagTarget(target);
    const img = await this.resolve(source);
    this.meta.write((db) => {
      if (!db.prepare("SELECT 1 FROM images WHERE id = ?").get(img.id)) {
        throw new NotFoundError(`No such image: ${notFoundName(source)}`);
      }
      this.setTag(db, ref, img.id, new Date().toISOString());
    });
  }

  /**
   * Remove a tag, or an image (`docker rmi`): untags the reference given; when the image
   * has no tags left (or `force`), deletes it and the blobs no other image needs.
   * @throws NotFoundError when nothing matches.
   * @throws FailedPreconditionError for an ID that several repositories reference (without
   *   `force`), or an image a container uses.
   */
  async remove(
    input: string,
    opts: { force?: boolean; noPrune?: boolean } = {},
  ): Promise<RemovedItem[]> {
    const out: RemovedItem[] = [];
    const blobsToDelete: string[] = [];
    const trashed: (string | undefined)[] = [];
    this.meta.write((db) => {
      const row = this.findRow(db, input);
      if (!row) throw new NotFoundError(`No such image: ${notFoundName(input)}`);
      const names = [
        ...(db.prepare("SELECT name FROM tags WHERE image_id = ? ORDER BY name").all(row.id) as {
          name: string;
        }[]),
        ...(db
          .prepare("SELECT name FROM repo_digests WHERE image_id = ? ORDER BY name")
          .all(row.id) as { name: string }[]),
      ].map((r) => r.name);
      const byName = names.find((n) => n === canonicalName(input));
      const user = db.prepare("SELECT id FROM containers WHERE image_id = ? LIMIT 1").get(row.id) as
        | { id: string }
        | undefined;
      const untag = (n: string) => {
        db.prepare("DELETE FROM tags WHERE name = ?").run(n);
        db.prepare("DELETE FROM repo_digests WHERE name = ?").run(n);
        out.push({ untagged: familiarString(parseReference(n)) });
      };
      if (byName) {
        // Removing by name untags that name; as docker does, when no other tag of its
        // repository is left, that repository's digest references go too (a pulled image's
        // `name@sha256:…`); the image goes with its last name.
        const repoOf = (n: string) => fullName(parseReference(n));
        const isDigestRef = (n: string) => n.includes("@");
        let remaining = names.filter((n) => n !== byName);
        let digestsToo: string[] = [];
        if (
          !isDigestRef(byName) &&
          !remaining.some((n) => !isDigestRef(n) && repoOf(n) === repoOf(byName))
        ) {
          digestsToo = remaining.filter((n) => isDigestRef(n) && repoOf(n) === repoOf(byName));
          remaining = remaining.filter((n) => !digestsToo.includes(n));
        }
        if (user && remaining.length === 0 && !opts.force) {
          throw new FailedPreconditionError(
            `conflict: unable to remove repository reference "${input}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${shortId(row.id)}`,
          );
        }
        untag(byName);
        for (const d of digestsToo) untag(d);
        if (remaining.length > 0) return;
      } else {
        const repos = new Set(names.map((n) => fullName(parseReference(n))));
        if (repos.size > 1 && !opts.force) {
          throw new FailedPreconditionError(
            `conflict: unable to delete ${shortId(row.id)} (must be forced) - image is referenced in multiple repositories`,
          );
        }
        if (user && !opts.force) {
          throw new FailedPreconditionError(
            `conflict: unable to delete ${shortId(row.id)} (must be forced) - image is being used by stopped container ${user.id.slice(0, 12)}`,
          );
        }
        for (const n of names) untag(n);
      }
      if (user) return; // forced untag of an image in use: docker keeps the image itself
      const drop = (id: string): void => {
        const layers = db
          .prepare("SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx DESC")
          .all(id) as { chain_id: string }[];
        const blobs = (
          db.prepare("SELECT digest FROM image_blobs WHERE image_id = ?").all(id) as {
            digest: string;
          }[]
        ).map((r) => r.digest);
        db.prepare("DELETE FROM images WHERE id = ?").run(id);
        out.push({ deleted: id });
        for (const { chain_id } of layers) {
          const still = db
            .prepare("SELECT 1 FROM image_layers WHERE chain_id = ? LIMIT 1")
            .get(chain_id);
          if (!still) {
            out.push({ deleted: chain_id });
            // Drivers holding this layer prune it: this one right after the commit (or at its
            // next start if this process dies first), the others when they next start.
            LayerUnpacker.markPrunePending(db, this.unpacker.driverName);
            const holders = db
              .prepare("SELECT driver FROM snapshots WHERE chain_id = ?")
              .all(chain_id) as { driver: string }[];
            for (const { driver } of holders) LayerUnpacker.markPrunePending(db, driver);
            db.prepare("DELETE FROM snapshots WHERE chain_id = ?").run(chain_id);
          }
        }
        db.prepare(
          "DELETE FROM layers WHERE diff_id NOT IN (SELECT diff_id FROM image_layers)",
        ).run();
        for (const d of blobs) {
          // A blob another process has just written (or is reusing) for an image it is about
          // to record stays: that process records it or, if it dies, leaves it unreferenced.
          // A blob a layer record still names (the same layer stored for another image
          // under this blob) stays too.
          if (
            !db.prepare("SELECT 1 FROM image_blobs WHERE digest = ? LIMIT 1").get(d) &&
            !db.prepare("SELECT 1 FROM layers WHERE blob_digest = ? LIMIT 1").get(d) &&
            !this.content.leasedSync(d)
          )
            blobsToDelete.push(d);
        }
      };
      drop(row.id);
      // As docker's rmi (unless --no-prune): untagged parents that nothing else uses go
      // too, e.g. the intermediate images of a build.
      let parent = opts.noPrune ? null : row.parent;
      while (parent) {
        const p = db.prepare("SELECT id, parent FROM images WHERE id = ?").get(parent) as
          | { id: string; parent: string | null }
          | undefined;
        if (
          !p ||
          db.prepare("SELECT 1 FROM tags WHERE image_id = ? LIMIT 1").get(p.id) ||
          db.prepare("SELECT 1 FROM repo_digests WHERE image_id = ? LIMIT 1").get(p.id) ||
          db.prepare("SELECT 1 FROM images WHERE parent = ? LIMIT 1").get(p.id) ||
          db.prepare("SELECT 1 FROM containers WHERE image_id = ? LIMIT 1").get(p.id)
        )
          break;
        drop(p.id);
        parent = p.parent;
      }
      // Take blob files out while holding the write lock: a concurrent addImage checks that
      // its blobs exist inside its own transaction, after this one commits. They go to the
      // trash, not away: if this process dies before the commit, the next start puts them back.
      for (const d of blobsToDelete) trashed.push(this.content.trashSync(d));
      crashPoint("mid-transaction");
    });
    await this.content.emptyTrash(trashed);
    crashPoint("rmi-before-prune");
    if (!opts.noPrune && out.some((o) => "deleted" in o)) await this.unpacker.prune();
    return out;
  }

  /** The image's history, newest first, as `docker history` shows it. */
  async history(input: string): Promise<ImageHistoryItem[]> {
    const img = await this.resolve(input);
    const hist = img.config.history ?? [];
    // Which history entry each known ancestor image ends at.
    const ids = new Map<number, { id: string; tags: string[] }>();
    let cur: ImageRecord | undefined = img;
    while (cur) {
      ids.set((cur.config.history ?? []).length - 1, { id: cur.id, tags: cur.repoTags });
      cur = cur.parent ? await this.resolve(cur.parent).catch(() => undefined) : undefined;
    }
    const items: ImageHistoryItem[] = [];
    let layerIdx = 0;
    hist.forEach((h, i) => {
      const size = h.empty_layer ? 0 : (img.layers[layerIdx++]?.size ?? 0);
      const known = ids.get(i);
      items.push({
        id: known?.id ?? "<missing>",
        created: new Date(h.created ?? 0),
        createdBy: h.created_by ?? "",
        size,
        comment: h.comment ?? "",
        tags: known?.tags ?? [],
      });
    });
    return items.reverse();
  }

  /** The image in docker's `image inspect` JSON shape. */
  async inspect(input: string): Promise<Record<string, unknown>> {
    const img = await this.resolve(input);
    return imageInspect(img, { Name: this.unpacker.driverName, Data: null });
  }

  /** Image IDs of every image, for `images -q` style listings and GC. */
  allIds(): string[] {
    return (this.meta.db.prepare("SELECT id FROM images").all() as { id: string }[]).map(
      (r) => r.id,
    );
  }

  /** The stored manifest of an image. */
  async manifest(img: ImageRecord): Promise<ImageManifest> {
    return JSON.parse(
      (await this.content.readVerified(img.manifestDigest)).toString("utf8"),
    ) as ImageManifest;
  }

  /** Digest of arbitrary bytes, re-exported for callers that build configs. */
  static digestOf(data: Uint8Array | string): string {
    return sha256Digest(data);
  }
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** docker prints `No such image: busybox:latest` for a reference without a tag. */
function notFoundName(input: string): string {
  try {
    if (ID_PREFIX_RE.test(input) && input.length >= 12) return input;
    return familiarString(withDefaultTag(parseReference(input)));
  } catch {
    return input;
  }
}

/** The stored (fully qualified) name a user's reference stands for, or undefined. */
function canonicalName(input: string): string | undefined {
  try {
    const ref = parseReference(input);
    return ref.digest
      ? referenceString({ domain: ref.domain, path: ref.path, digest: ref.digest })
      : referenceString(withDefaultTag(ref));
  } catch {
    return undefined;
  }
}
