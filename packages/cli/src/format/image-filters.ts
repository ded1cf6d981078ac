/**
 * Which images `docker images` lists, with moby's `ImageService.Images` rules: the
 * filters `dangling`, `label`, `before`, `since`, `until` and `reference` (the positional
 * `REPOSITORY[:TAG]` is one more `reference`), and intermediate images hidden unless `-a`.
 */
import type { FilterArgs, ImageRecord } from "@strata/core";
import { referenceMatches } from "./image-rows.js";

/** Filters `images` accepts (moby's `acceptedImageFilterTags`). */
export const IMAGE_LIST_FILTERS: readonly string[] = [
  "dangling",
  "label",
  "before",
  "since",
  "reference",
  "until",
];

/** How {@link selectImages} works. */
export interface SelectImagesOptions {
  /** `-a`: include intermediate images (untagged parents of other images). */
  all?: boolean;
  /** Resolves the images `before=` and `since=` name. */
  resolve(ref: string): Promise<ImageRecord>;
  /** The time `until` durations count back from. */
  now?: Date;
}

/**
 * The images to list, each with only the tags and digests the `reference` filters let
 * through (so rows are made for those only). Untagged images kept are dangling ones.
 * @throws InvalidArgumentError for an unknown filter or a bad value (`invalid filter …`).
 * @throws NotFoundError when `before`/`since` name no image.
 */
export async function selectImages(
  images: readonly ImageRecord[],
  filters: FilterArgs,
  opts: SelectImagesOptions,
): Promise<ImageRecord[]> {
  const { parseFilterTime, invalidFilter } = await import("@strata/core");
  filters.validate(IMAGE_LIST_FILTERS);
  const danglingOnly = filters.getBool("dangling", false);
  let before: number | undefined;
  for (const ref of filters.get("before")) {
    const t = (await opts.resolve(ref)).created.getTime();
    if (before === undefined || t < before) before = t; // the oldest: all must hold
  }
  let since: number | undefined;
  for (const ref of filters.get("since")) {
    const t = (await opts.resolve(ref)).created.getTime();
    if (since === undefined || t > since) since = t;
  }
  const untilValues = filters.get("until");
  if (untilValues.length > 1) throw invalidFilter("until", untilValues);
  const until =
    untilValues[0] !== undefined ? parseFilterTime(untilValues[0], opts.now) : undefined;
  const patterns = filters.get("reference");
  const matches = (ref: string) => patterns.some((p) => referenceMatches(p, ref));
  const parents = new Set(images.map((i) => i.parent).filter((p): p is string => !!p));

  const out: ImageRecord[] = [];
  for (const img of images) {
    const created = img.created.getTime();
    if (danglingOnly && parents.has(img.id)) continue;
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (until !== undefined && created > until.getTime()) continue;
    if (filters.contains("label") && !filters.matchKVList("label", img.config.config?.Labels)) {
      continue;
    }
    const repoTags = patterns.length > 0 ? img.repoTags.filter(matches) : img.repoTags;
    const repoDigests = patterns.length > 0 ? img.repoDigests.filter(matches) : img.repoDigests;
    if (repoTags.length + repoDigests.length === 0) {
      if (!opts.all && parents.has(img.id)) continue; // an intermediate image
      if (filters.contains("dangling") && !danglingOnly) continue;
      if (patterns.length > 0) continue;
    } else if (danglingOnly && repoTags.length > 0) {
      continue;
    }
    out.push({ ...img, repoTags, repoDigests });
  }
  return out;
}
