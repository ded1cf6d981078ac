import type { ImageRecord } from "@strata/core";
import { pathMatch } from "./glob.js";
import { createdSince } from "./human-duration.js";
import { humanSize } from "./human-size.js";
import { truncateId } from "./ids.js";

/** What `docker images` shows and how. */
export interface ImageListOptions {
  /** `-a`: include intermediate images (untagged parents of other images). */
  all?: boolean;
  /** `--digests`: add the DIGEST column (and a row per digest of digest-only references). */
  digests?: boolean;
  /**
   * Show each tag once per digest of its repository (docker's `needDigest`: `--digests`,
   * or a format that uses `{{.Digest}}`). Default: `digests`.
   */
  needDigest?: boolean;
  /** `--no-trunc`: full `sha256:` IDs. */
  noTrunc?: boolean;
  /** `REPOSITORY[:TAG]` filter (Go `path.Match` patterns on the familiar name). */
  reference?: string;
  /** The time CREATED is measured from. */
  now?: Date;
}

/** One row of `docker images`: an image under one repository and tag. */
export interface ImageRow {
  image: ImageRecord;
  repository: string;
  tag: string;
  digest: string;
}

/**
 * The rows `docker images` prints, newest image first, one row per tag (docker's
 * `imageFormatTaggedAndDigest`): `<none>` for an untagged image's repository and tag,
 * digest-only references as `<none>` tags.
 */
export function imageRows(images: readonly ImageRecord[], opts: ImageListOptions = {}): ImageRow[] {
  const parents = new Set(images.map((i) => i.parent).filter((p): p is string => !!p));
  const sorted = [...images].sort(
    (a, b) => b.created.getTime() - a.created.getTime() || a.id.localeCompare(b.id),
  );
  const rows: ImageRow[] = [];
  for (const image of sorted) {
    const pattern = opts.reference;
    const tags = pattern
      ? image.repoTags.filter((r) => referenceMatches(pattern, r))
      : image.repoTags;
    const digests = pattern
      ? image.repoDigests.filter((r) => referenceMatches(pattern, r))
      : image.repoDigests;
    if (tags.length === 0 && digests.length === 0) {
      // Untagged: hidden under a reference filter, and when it is an intermediate image.
      if (pattern) continue;
      if (!opts.all && parents.has(image.id)) continue;
      rows.push({ image, repository: "<none>", tag: "<none>", digest: "<none>" });
      continue;
    }
    rows.push(
      ...taggedRows(
        image,
        tags,
        digests,
        opts.digests ?? false,
        opts.needDigest ?? opts.digests ?? false,
      ),
    );
  }
  return rows;
}

function taggedRows(
  image: ImageRecord,
  tags: string[],
  digests: string[],
  showDigests: boolean,
  needDigest: boolean,
): ImageRow[] {
  const byRepoTags = new Map<string, string[]>();
  const byRepoDigests = new Map<string, string[]>();
  for (const ref of tags) {
    const { name, tag } = splitTag(ref);
    if (tag !== undefined) push(byRepoTags, name, tag);
  }
  for (const ref of digests) {
    const at = ref.indexOf("@");
    if (at > 0) push(byRepoDigests, ref.slice(0, at), ref.slice(at + 1));
  }
  const rows: ImageRow[] = [];
  const add = (repository: string, tag: string, digest: string) =>
    rows.push({ image, repository, tag, digest });
  for (const [repo, repoTags] of byRepoTags) {
    const repoDigests = needDigest ? (byRepoDigests.get(repo) ?? []) : [];
    byRepoDigests.delete(repo);
    for (const tag of repoTags) {
      if (repoDigests.length === 0) add(repo, tag, "<none>");
      else for (const d of repoDigests) add(repo, tag, d);
    }
  }
  for (const [repo, repoDigests] of byRepoDigests) {
    if (showDigests) for (const d of repoDigests) add(repo, "<none>", d);
    else add(repo, "<none>", "");
  }
  return rows;
}

/** docker's `FamiliarMatch`: the pattern against `name:tag`, then against the name alone. */
export function referenceMatches(pattern: string, familiarRef: string): boolean {
  if (pathMatch(pattern, familiarRef)) return true;
  return pathMatch(pattern, splitName(familiarRef));
}

/** `localhost:5000/a/b:t` → `{name: "localhost:5000/a/b", tag: "t"}`. */
export function splitTag(ref: string): { name: string; tag?: string } {
  const at = ref.indexOf("@");
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(":");
  if (colon > base.lastIndexOf("/"))
    return { name: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { name: base };
}

function splitName(ref: string): string {
  return splitTag(ref).name;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The header and cells of `docker images`' table for `rows`. */
export function imageTable(rows: readonly ImageRow[], opts: ImageListOptions = {}): string[][] {
  const now = opts.now ?? new Date();
  const header = opts.digests
    ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
    : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"];
  const body = rows.map((r) => {
    const id = opts.noTrunc ? r.image.id : truncateId(r.image.id);
    const cells = [
      r.repository,
      r.tag,
      id,
      createdSince(r.image.created, now),
      humanSize(r.image.size),
    ];
    if (opts.digests) cells.splice(2, 0, r.digest);
    return cells;
  });
  return [header, ...body];
}

/**
 * `docker images -q`: the ID of each row, in row order. Like docker, an image with several
 * tags is listed once per tag (scripts pipe through `sort -u`).
 */
export function imageIds(rows: readonly ImageRow[], noTrunc = false): string[] {
  return rows.map((r) => (noTrunc ? r.image.id : truncateId(r.image.id)));
}
