import { inject, injectable } from "tsyringe";
import { MetadataStore } from "../metadata/metadata-store.js";

/**
 * The build cache, kept as docker's classic builder keeps it: a step's result is the image
 * it made, found again by the image the step started from and the step's cache key (the
 * instruction as expanded, the build args a RUN sees, the content hash of COPY/ADD
 * sources). Rows live in the metadata database and go when their image goes (`rmi`,
 * `image prune`).
 * @experimental
 */
@injectable()
export class BuildCache {
  constructor(@inject(MetadataStore) private readonly meta: MetadataStore) {}

  /**
   * The image a step with `key` made on top of `parentId` ("" for scratch), if it is still
   * stored.
   */
  lookup(parentId: string, key: string): string | undefined {
    const row = this.meta.db
      .prepare(
        "SELECT c.image_id FROM build_cache c JOIN images i ON i.id = c.image_id WHERE c.parent_id = ? AND c.cache_key = ?",
      )
      .get(parentId, key) as { image_id: string } | undefined;
    return row?.image_id;
  }

  /** Record that the step `key` on `parentId` made `imageId` (replacing an older entry). */
  record(parentId: string, key: string, imageId: string): void {
    this.meta.write((db) => {
      if (!db.prepare("SELECT 1 FROM images WHERE id = ?").get(imageId)) return;
      db.prepare(
        "INSERT INTO build_cache(parent_id, cache_key, image_id, created) VALUES (?, ?, ?, ?) ON CONFLICT(parent_id, cache_key) DO UPDATE SET image_id = excluded.image_id, created = excluded.created",
      ).run(parentId, key, imageId, new Date().toISOString());
    });
  }

  /** Number of cached steps and the distinct images they point at (for `system df`). */
  stats(): { entries: number; images: number } {
    const row = this.meta.db
      .prepare("SELECT count(*) AS n, count(DISTINCT image_id) AS i FROM build_cache")
      .get() as { n: number; i: number };
    return { entries: row.n, images: row.i };
  }
}
