/**
 * Checked parsing of the JSON documents an image is made of — index, manifest, config —
 * as they arrive from a registry or an archive: untrusted bytes. Each parser either
 * returns a document whose fields have the types strata relies on, or throws a typed
 * error naming the document and the field, as Go's `json.Unmarshal` into docker's structs
 * would refuse a type mismatch. Unknown fields are kept (configs carry extensions).
 */
import type { Descriptor } from "../content/descriptor.js";
import { isDigest } from "../content/digest.js";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import type { ImageConfig, ImageManifest } from "./image-types.js";
import { layerCompression, MediaTypes } from "./media-types.js";

/** An image index or manifest list, checked: every entry is a well-formed descriptor. */
export interface CheckedIndex {
  mediaType?: string;
  manifests: Descriptor[];
}

type Json = Record<string, unknown>;

/**
 * Parse `bytes` as a JSON object.
 * @throws InvalidArgumentError `<what>: invalid JSON: …` or `<what>: not a JSON object`.
 */
export function parseJsonObject(bytes: Uint8Array | string, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`${what}: invalid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!isObject(value)) throw new InvalidArgumentError(`${what}: not a JSON object`);
  return value;
}

/**
 * Check a descriptor: `mediaType` a string, `digest` a sha256 digest, `size` a
 * non-negative integer; `annotations` strings, `platform` os and architecture strings.
 * @throws InvalidArgumentError naming the bad field.
 */
export function checkDescriptor(value: unknown, what: string): Descriptor {
  if (!isObject(value)) throw bad(what, "not an object");
  if (typeof value.mediaType !== "string") throw bad(what, "mediaType is not a string");
  if (typeof value.digest !== "string" || !isDigest(value.digest)) {
    throw bad(what, `invalid digest ${JSON.stringify(value.digest)}`);
  }
  if (!Number.isSafeInteger(value.size) || (value.size as number) < 0) {
    throw bad(what, `invalid size ${JSON.stringify(value.size)}`);
  }
  if (value.annotations !== undefined) stringMap(value.annotations, `${what} annotations`);
  if (value.platform !== undefined) {
    const p = value.platform;
    if (!isObject(p) || typeof p.os !== "string" || typeof p.architecture !== "string") {
      throw bad(what, "platform needs os and architecture strings");
    }
    if (p.variant !== undefined && typeof p.variant !== "string") {
      throw bad(what, "platform variant is not a string");
    }
  }
  return value as unknown as Descriptor;
}

/**
 * Parse an OCI image index or docker manifest list.
 * @throws InvalidArgumentError for bad JSON or a malformed entry.
 */
export function parseImageIndex(bytes: Uint8Array, what = "image index"): CheckedIndex {
  const json = parseJsonObject(bytes, what);
  const manifests = json.manifests ?? [];
  if (!Array.isArray(manifests)) throw bad(what, "manifests is not an array");
  for (const [i, d] of manifests.entries()) checkDescriptor(d, `${what} manifest ${i}`);
  return { ...json, manifests } as CheckedIndex;
}

/**
 * Parse an image manifest of media type `mediaType` (docker schema 2 or OCI): a config
 * descriptor and layer descriptors of layer media types.
 * @throws NotSupportedError for schema 1, an unknown manifest media type or layer type.
 * @throws InvalidArgumentError for bad JSON or a malformed field.
 */
export function parseImageManifest(
  bytes: Uint8Array,
  mediaType: string,
  what = "manifest",
): ImageManifest {
  const json = parseJsonObject(bytes, what);
  if (json.schemaVersion === 1 || /distribution\.manifest\.v1/.test(mediaType)) {
    throw new NotSupportedError(
      "support for Docker Image Format v1 and Docker Image manifest version 2, schema 1 has been removed",
    );
  }
  if (mediaType !== MediaTypes.OciManifest && mediaType !== MediaTypes.DockerManifest) {
    throw new NotSupportedError(`${what}: unsupported manifest media type "${mediaType}"`);
  }
  if (!json.config || !Array.isArray(json.layers)) {
    throw new InvalidArgumentError(`${what}: not an image manifest (${mediaType})`);
  }
  checkDescriptor(json.config, `${what} config`);
  json.layers.forEach((l, i) => {
    const d = checkDescriptor(l, `${what} layer ${i}`);
    if (layerCompression(d.mediaType) === undefined) {
      throw new NotSupportedError(
        `${what} layer ${i} (${d.digest}): unsupported layer media type "${d.mediaType}"`,
      );
    }
  });
  return json as unknown as ImageManifest;
}

/** Fields of a container config and the JSON type Go's structs give them. */
const CONTAINER_FIELDS: Record<string, "string" | "strings" | "map" | "bool" | "number"> = {
  User: "string",
  WorkingDir: "string",
  StopSignal: "string",
  Hostname: "string",
  Domainname: "string",
  Image: "string",
  Env: "strings",
  Cmd: "strings",
  Entrypoint: "strings",
  Shell: "strings",
  OnBuild: "strings",
  Labels: "map",
  ExposedPorts: "map",
  Volumes: "map",
  Tty: "bool",
  OpenStdin: "bool",
  AttachStdin: "bool",
  AttachStdout: "bool",
  AttachStderr: "bool",
  StdinOnce: "bool",
  ArgsEscaped: "bool",
  NetworkDisabled: "bool",
  StopTimeout: "number",
};

/**
 * Parse an image config: `rootfs.diff_ids` digests, `history` entries, and the container
 * config's fields of the types docker gives them (`Env` strings, `Labels` a map, ...).
 * @throws InvalidArgumentError for bad JSON or a field of the wrong type.
 */
export function parseImageConfig(bytes: Uint8Array, what = "image config"): ImageConfig {
  const json = parseJsonObject(bytes, what);
  for (const k of ["architecture", "os", "variant", "created", "author", "comment"]) {
    if (json[k] !== undefined && json[k] !== null && typeof json[k] !== "string") {
      throw bad(what, `${k} is not a string`);
    }
  }
  const rootfs = json.rootfs ?? { type: "layers", diff_ids: [] };
  if (!isObject(rootfs)) throw bad(what, "rootfs is not an object");
  const ids = rootfs.diff_ids ?? [];
  if (!Array.isArray(ids)) throw bad(what, "rootfs.diff_ids is not an array");
  ids.forEach((id, i) => {
    if (typeof id !== "string" || !isDigest(id)) {
      throw bad(what, `rootfs.diff_ids[${i}] ${JSON.stringify(id)} is not a sha256 digest`);
    }
  });
  if (json.history !== undefined && json.history !== null) {
    if (!Array.isArray(json.history)) throw bad(what, "history is not an array");
    json.history.forEach((h, i) => {
      if (!isObject(h)) throw bad(what, `history[${i}] is not an object`);
      for (const k of ["created", "created_by", "author", "comment"]) {
        if (h[k] !== undefined && h[k] !== null && typeof h[k] !== "string") {
          throw bad(what, `history[${i}].${k} is not a string`);
        }
      }
    });
  }
  for (const key of ["config", "container_config"]) {
    const c = json[key];
    if (c === undefined || c === null) continue;
    if (!isObject(c)) throw bad(what, `${key} is not an object`);
    for (const [field, type] of Object.entries(CONTAINER_FIELDS)) {
      const v = c[field];
      if (v === undefined || v === null) continue;
      const ok =
        type === "strings"
          ? Array.isArray(v) && v.every((s) => typeof s === "string")
          : type === "map"
            ? isObject(v)
            : typeof v === (type === "bool" ? "boolean" : type);
      if (!ok) throw bad(what, `${key}.${field} is not ${TYPE_WORDS[type]}`);
    }
    if (c.Labels !== undefined && c.Labels !== null) stringMap(c.Labels, `${what} ${key}.Labels`);
  }
  return { ...json, rootfs: { type: "layers", diff_ids: ids as string[] } } as ImageConfig;
}

const TYPE_WORDS = {
  string: "a string",
  strings: "a list of strings",
  map: "an object",
  bool: "a boolean",
  number: "a number",
} as const;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, what: string): void {
  if (!isObject(v) || !Object.values(v).every((s) => typeof s === "string")) {
    throw new InvalidArgumentError(`${what}: not a map of strings`);
  }
}

function bad(what: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`${what}: ${why}`);
}
