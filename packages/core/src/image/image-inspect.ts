import { emptyContainerConfig } from "./config-changes.js";
import type { ImageRecord } from "./image-types.js";

/** Go's zero time, which docker prints for times it never set. */
const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * The image as `docker image inspect` shows it (API 1.44+ shape): Id, RepoTags,
 * RepoDigests, Parent, Comment, Created, DockerVersion, Author, Config, Architecture,
 * Variant (when set), Os, Size, GraphDriver, RootFS, Metadata.
 */
export function imageInspect(
  img: ImageRecord,
  graphDriver: { Name: string; Data: Record<string, string> | null },
): Record<string, unknown> {
  const c = img.config;
  const out: Record<string, unknown> = {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: img.parent ?? "",
    Comment: c.comment ?? "",
    Created: c.created ?? GO_ZERO_TIME,
    DockerVersion: c.docker_version ?? "",
    Author: c.author ?? "",
    Config: { ...emptyContainerConfig(), ...(c.config ?? {}) },
    Architecture: c.architecture,
  };
  if (c.variant) out.Variant = c.variant;
  Object.assign(out, {
    Os: c.os,
    Size: img.size,
    GraphDriver: { Data: graphDriver.Data, Name: graphDriver.Name }, // docker's field order
    RootFS: { Type: "layers", Layers: c.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: img.lastTagTime?.toISOString() ?? GO_ZERO_TIME },
  });
  return out;
}
