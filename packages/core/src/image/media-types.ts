/** Media types of the manifests, configs and layers strata reads and writes. */
export const MediaTypes = {
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerLayerZstd: "application/vnd.docker.image.rootfs.diff.tar.zstd",
} as const;

/** How a layer blob is compressed, judged from its media type. */
export type LayerCompression = "none" | "gzip" | "zstd";

/**
 * The compression of a layer media type.
 * @throws never; unknown types are reported as `undefined` so callers can reject them.
 */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case MediaTypes.OciLayer:
    case MediaTypes.DockerLayer:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar":
      return "none";
    case MediaTypes.OciLayerGzip:
    case MediaTypes.DockerLayerGzip:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip":
      return "gzip";
    case MediaTypes.OciLayerZstd:
    case MediaTypes.DockerLayerZstd:
      return "zstd";
    default:
      return undefined;
  }
}
