import { inject, injectable } from "tsyringe";
import { ContainerStore } from "../container/container-store.js";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { FilterArgs, invalidFilter, parseFilterTime } from "../filters/filter-args.js";
import { ImageStore } from "./image-store.js";
import type { ImageRecord, RemovedItem } from "./image-types.js";

/** What `image prune` removed and the layer bytes that freed. */
export interface ImagePruneReport {
  /** `untagged`/`deleted` lines in the order `rmi` would print them. */
  deleted: RemovedItem[];
  /** Bytes of the layers deleted (docker's `SpaceReclaimed`). */
  spaceReclaimed: number;
}

/** Options of {@link ImagePruner.prune}. */
export interface ImagePruneOptions {
  /** `-a`: every image no container uses, not only dangling ones. */
  all?: boolean;
  /** `--filter`: `until=<time>`, `label=<k>[=<v>]`, `label!=<k>[=<v>]`. */
  filters?: FilterArgs;
  /** The time `until` durations are measured back from. */
  now?: Date;
}

/** Filters `image prune` accepts (moby's `imagesAcceptedFilters`). */
export const IMAGE_PRUNE_FILTERS: readonly string[] = ["dangling", "label", "label!", "until"];

/**
 * `docker image prune`: removes dangling images (no tag, no child image), or with `all`
 * every image no container uses, then their untagged parents that nothing else needs,
 * following moby's `ImagesPrune`. Images a container uses are never removed.
 */
@injectable()
export class ImagePruner {
  constructor(
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(ContainerStore) private readonly containers: ContainerStore,
  ) {}

  /**
   * Remove unused images.
   * @throws InvalidArgumentError for an unknown filter or a bad filter value.
   */
  async prune(opts: ImagePruneOptions = {}): Promise<ImagePruneReport> {
    const filters = opts.filters ?? new FilterArgs();
    filters.validate(IMAGE_PRUNE_FILTERS);
    const danglingOnly = filters.getBool("dangling", !opts.all);
    const until = untilOf(filters, opts.now);

    const list = await this.images.list();
    const used = new Set(this.containers.list().map((c) => c.imageId));
    const layerSizes = new Map<string, number>();
    for (const img of list) for (const l of img.layers) layerSizes.set(l.chainId, l.size);
    const hasChildren = (id: string, among: readonly ImageRecord[]) =>
      among.some((i) => i.parent === id);

    const top = list.filter((img) => {
      const refs = img.repoTags.length + img.repoDigests.length;
      if (danglingOnly && hasChildren(img.id, list)) return false;
      if (refs === 0 && hasChildren(img.id, list)) return false; // intermediate image
      if (used.has(img.id)) return false;
      if (until && img.created.getTime() > until.getTime()) return false;
      const labels = img.config.config?.Labels ?? {};
      if (!filters.matchKVList("label", labels)) return false;
      if (filters.contains("label!") && filters.matchKVList("label!", labels)) return false;
      return true;
    });

    const deleted: RemovedItem[] = [];
    const gone = new Set<string>();
    const remove = async (ref: string): Promise<RemovedItem[]> => {
      try {
        const out = await this.images.remove(ref, { noPrune: true });
        deleted.push(...out);
        for (const o of out) if ("deleted" in o) gone.add(o.deleted);
        return out;
      } catch (err) {
        // As moby: an image that turned out to be in use (or vanished) is skipped.
        if (err instanceof FailedPreconditionError || err instanceof NotFoundError) return [];
        throw err;
      }
    };

    for (const img of top) {
      const refs = [...img.repoTags, ...img.repoDigests];
      if (refs.length > 0) {
        if (danglingOnly && img.repoTags.length > 0) continue;
        for (const ref of refs) await remove(ref);
      } else {
        await remove(img.id);
      }
      if (gone.has(img.id)) await this.pruneParents(img, remove, used);
    }
    if (gone.size > 0) await this.images.unpacker.prune();

    let spaceReclaimed = 0;
    for (const d of gone) spaceReclaimed += layerSizes.get(d) ?? 0;
    return { deleted, spaceReclaimed };
  }

  /** Remove the untagged parents of a removed image that nothing else needs any more. */
  private async pruneParents(
    img: ImageRecord,
    remove: (ref: string) => Promise<RemovedItem[]>,
    used: ReadonlySet<string>,
  ): Promise<void> {
    let parentId = img.parent;
    while (parentId) {
      const remaining = await this.images.list();
      const parent = remaining.find((i) => i.id === parentId);
      if (!parent || parent.repoTags.length + parent.repoDigests.length > 0) return;
      if (used.has(parent.id) || remaining.some((i) => i.parent === parent.id)) return;
      const out = await remove(parent.id);
      if (!out.some((o) => "deleted" in o && o.deleted === parent.id)) return;
      parentId = parent.parent;
    }
  }
}

/** moby's `getUntilFromPruneFilters`. */
function untilOf(filters: FilterArgs, now?: Date): Date | undefined {
  if (!filters.contains("until")) return undefined;
  const values = filters.get("until");
  if (values.length > 1) throw invalidFilter("until", values);
  return parseFilterTime(values[0] ?? "", now);
}
