import { inject, injectable } from "tsyringe";
import type { Descriptor } from "../content/descriptor.js";
import { MetadataStore } from "../metadata/metadata-store.js";

/**
 * What strata remembers about registries in the metadata database: which repositories a
 * blob is known to be in (pulled from, pushed to; docker's v2metadata), used to skip or
 * cross-mount blobs on push; and the compressed variants of layers made for pushes, so the
 * same layer always goes out with the same digest.
 */
@injectable()
export class RegistryMetadata {
  constructor(@inject(MetadataStore) private readonly meta: MetadataStore) {}

  /** Record that `digests` are in `repository` (`domain/path`). */
  addBlobSources(digests: readonly string[], repository: string): void {
    if (digests.length === 0) return;
    this.meta.write((db) => {
      const add = db.prepare(
        "INSERT OR IGNORE INTO blob_sources(digest, repository) VALUES (?, ?)",
      );
      for (const d of digests) add.run(d, repository);
    });
  }

  /** Repositories (`domain/path`) the blob is known to be in. */
  blobSources(digest: string): string[] {
    return (
      this.meta.db
        .prepare("SELECT repository FROM blob_sources WHERE digest = ? ORDER BY repository")
        .all(digest) as { repository: string }[]
    ).map((r) => r.repository);
  }

  /** Forget that the blob is in `repository` (the registry said it is not). */
  removeBlobSource(digest: string, repository: string): void {
    this.meta.write((db) =>
      db
        .prepare("DELETE FROM blob_sources WHERE digest = ? AND repository = ?")
        .run(digest, repository),
    );
  }

  /** The stored variant of layer `diffId` with `mediaType`, if one was made. */
  variant(diffId: string, mediaType: string): Descriptor | undefined {
    const row = this.meta.db
      .prepare(
        "SELECT blob_digest, blob_size FROM layer_variants WHERE diff_id = ? AND media_type = ?",
      )
      .get(diffId, mediaType) as { blob_digest: string; blob_size: number } | undefined;
    return row ? { mediaType, digest: row.blob_digest, size: row.blob_size } : undefined;
  }

  /** Remember `blob` as the `blob.mediaType` variant of layer `diffId`. */
  setVariant(diffId: string, blob: Descriptor): void {
    this.meta.write((db) =>
      db
        .prepare(
          "INSERT INTO layer_variants(diff_id, media_type, blob_digest, blob_size) VALUES (?, ?, ?, ?) ON CONFLICT(diff_id, media_type) DO UPDATE SET blob_digest = excluded.blob_digest, blob_size = excluded.blob_size",
        )
        .run(diffId, blob.mediaType, blob.digest, blob.size),
    );
  }
}
