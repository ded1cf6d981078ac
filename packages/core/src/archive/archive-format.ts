/**
 * The shapes and names of the image archives strata reads and writes:
 *
 * - docker 25+ (`docker save` today): an OCI image layout — `oci-layout`, `index.json`,
 *   `blobs/sha256/<hex>` — with docker's `manifest.json` and `repositories` beside it, so
 *   that every docker since 1.10, skopeo (`docker-archive:`) and OCI tools read it;
 * - docker 1.10–24 and skopeo's `docker-archive:` writer: `manifest.json` naming a config
 *   file (`<hex>.json`) and layer tars (`<v1-id>/layer.tar`, `<hex>.tar`; duplicates as
 *   symlinks), with per-layer `json` and `VERSION` files that only pre-1.10 docker reads;
 * - a plain OCI image layout archive (`index.json` alone; names from annotations).
 */
import type { Descriptor } from "../content/descriptor.js";
import { digestHex } from "../content/digest.js";

/** File names at the top of an archive. */
export const ArchiveFiles = {
  /** docker's list of images: {@link DockerManifestItem}[]. */
  Manifest: "manifest.json",
  /** docker's legacy `{repo: {tag: id}}` map. */
  Repositories: "repositories",
  /** The OCI image layout marker. */
  OciLayout: "oci-layout",
  /** The OCI image layout's entry point: an image index. */
  Index: "index.json",
} as const;

/** The content of `oci-layout`, byte for byte as docker writes it. */
export const OCI_LAYOUT_CONTENT = '{"imageLayoutVersion": "1.0.0"}';

/** Annotations naming an image in an OCI index. */
export const Annotations = {
  /** containerd's full image name: `docker.io/library/busybox:latest`. */
  ImageName: "io.containerd.image.name",
  /** The OCI ref name; docker writes the tag alone (`latest`), skopeo `name:tag`. */
  RefName: "org.opencontainers.image.ref.name",
} as const;

/** One element of docker's `manifest.json`. Paths are relative to the archive root. */
export interface DockerManifestItem {
  /** Path of the image config. */
  Config: string;
  /** Tags, as docker writes them (`busybox:latest`); null or absent when untagged. */
  RepoTags?: string[] | null;
  /** Paths of the layer tars (plain or compressed), bottom first. */
  Layers: string[];
  /** Parent image ID, when the archive holds the parent too. */
  Parent?: string;
  /** Descriptors of foreign (non-distributable) layers, by diff ID. */
  LayerSources?: Record<string, Descriptor>;
}

/** An OCI image index (`index.json`, or a blob that is an index / manifest list). */
export interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** Largest JSON document (manifest.json, index.json, a config, a manifest) accepted. */
export const MAX_JSON_SIZE = 8 * 1024 * 1024;

/** The archive path of a blob: `blobs/sha256/<hex>`. */
export function blobArchivePath(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`;
}
