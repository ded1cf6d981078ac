/**
 * An OCI content descriptor: what a blob is, its digest and its size in bytes.
 * See the OCI image-spec `descriptor.md`.
 */
export interface Descriptor {
  mediaType: string;
  /** `sha256:<64 lowercase hex>`. */
  digest: string;
  /** Size of the blob in bytes. */
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** An OCI platform (image index entries, image configs). */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}
