import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, NotSupportedError, StrataError } from "../errors.js";
import { fuzzParams, typedOnly } from "../util/fuzz-support.js";
import { parseImageConfig, parseImageIndex, parseImageManifest } from "./image-documents.js";
import { MediaTypes } from "./media-types.js";

const D = `sha256:${"a".repeat(64)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const manifest = {
  schemaVersion: 2,
  mediaType: MediaTypes.OciManifest,
  config: { mediaType: MediaTypes.OciConfig, digest: D, size: 10 },
  layers: [{ mediaType: MediaTypes.OciLayerGzip, digest: D, size: 20 }],
};
const config = {
  architecture: "amd64",
  os: "linux",
  config: { Env: ["A=1"], Cmd: ["/bin/sh"], Labels: { k: "v" }, ExposedPorts: { "80/tcp": {} } },
  rootfs: { type: "layers", diff_ids: [D] },
  history: [{ created_by: "x" }],
};
const index = {
  schemaVersion: 2,
  manifests: [
    {
      mediaType: MediaTypes.OciManifest,
      digest: D,
      size: 5,
      platform: { os: "linux", architecture: "amd64" },
    },
  ],
};

describe("image documents", () => {
  it("parse well-formed documents", () => {
    expect(parseImageManifest(json(manifest), MediaTypes.OciManifest).layers).toHaveLength(1);
    expect(parseImageConfig(json(config)).rootfs.diff_ids).toEqual([D]);
    expect(parseImageIndex(json(index)).manifests).toHaveLength(1);
    // Docker writes nulls for empty lists; a config may lack rootfs when it has no layers.
    expect(parseImageConfig(json({ os: "linux", config: { Cmd: null, Env: null } }))).toMatchObject(
      { rootfs: { diff_ids: [] } },
    );
  });

  it("refuse bad JSON, wrong types and unknown media types with the field named", () => {
    const cases: [() => unknown, RegExp, typeof StrataError][] = [
      [
        () => parseImageConfig(Buffer.from("{")),
        /image config: invalid JSON/,
        InvalidArgumentError,
      ],
      [() => parseImageConfig(json([])), /not a JSON object/, InvalidArgumentError],
      [
        () => parseImageConfig(json({ ...config, config: { Env: "A=1" } })),
        /config\.Env is not a list of strings/,
        InvalidArgumentError,
      ],
      [
        () => parseImageConfig(json({ ...config, config: { Labels: { k: 1 } } })),
        /config\.Labels: not a map of strings/,
        InvalidArgumentError,
      ],
      [
        () => parseImageConfig(json({ ...config, rootfs: { diff_ids: ["sha256:x"] } })),
        /rootfs\.diff_ids\[0\] "sha256:x" is not a sha256 digest/,
        InvalidArgumentError,
      ],
      [
        () => parseImageConfig(json({ ...config, history: "yesterday" })),
        /history is not an array/,
        InvalidArgumentError,
      ],
      [
        () => parseImageManifest(json(manifest), "application/vnd.example+json"),
        /unsupported manifest media type "application\/vnd\.example\+json"/,
        NotSupportedError,
      ],
      [
        () =>
          parseImageManifest(
            json({ ...manifest, layers: [{ ...manifest.layers[0], mediaType: "text/plain" }] }),
            MediaTypes.OciManifest,
          ),
        /layer 0 \(sha256:a+\): unsupported layer media type "text\/plain"/,
        NotSupportedError,
      ],
      [
        () =>
          parseImageManifest(
            json({ ...manifest, config: { ...manifest.config, size: -1 } }),
            MediaTypes.OciManifest,
          ),
        /manifest config: invalid size -1/,
        InvalidArgumentError,
      ],
      [
        () => parseImageManifest(json({ schemaVersion: 1 }), MediaTypes.DockerManifest),
        /schema 1 has been removed/,
        NotSupportedError,
      ],
      [
        () => parseImageIndex(json({ manifests: [{ digest: D }] })),
        /image index manifest 0: mediaType is not a string/,
        InvalidArgumentError,
      ],
      [
        () => parseImageIndex(json({ manifests: {} })),
        /manifests is not an array/,
        InvalidArgumentError,
      ],
    ];
    for (const [fn, message, type] of cases) {
      expect(fn).toThrow(type);
      expect(fn).toThrow(message);
    }
  });
});

/**
 * Fixed seed, so a failure is reproducible (STRATA_FUZZ_SEED explores others); runs sized
 * to keep each property near a second.
 */
const params = fuzzParams(2000);

/** A well-formed document with one value somewhere replaced by arbitrary JSON. */
function mutated(doc: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, [...p, i]);
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
    }
  };
  walk(doc, []);
  return fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 })).map(([p, value]) => {
    if (p.length === 0) return value;
    const copy = structuredClone(doc) as Record<string | number, unknown>;
    let at = copy;
    for (const k of p.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    at[p[p.length - 1]!] = value;
    return copy;
  });
}

describe("image documents (fuzzed)", () => {
  const mediaType = fc.constantFrom(
    MediaTypes.OciManifest,
    MediaTypes.DockerManifest,
    MediaTypes.OciIndex,
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "",
    "x",
  );

  it("parse arbitrary JSON and arbitrary text with typed errors only", () => {
    const anyBytes = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => json(v)),
      fc.string({ maxLength: 60 }).map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(anyBytes, mediaType, (bytes, type) => {
        typedOnly(() => parseImageManifest(bytes, type));
        typedOnly(() => parseImageConfig(bytes));
        typedOnly(() => parseImageIndex(bytes));
      }),
      params,
    );
  });

  it("parse documents with one field replaced by anything with typed errors only", () => {
    fc.assert(
      fc.property(
        fc.oneof(mutated(manifest), mutated(config), mutated(index)),
        mediaType,
        (doc, type) => {
          const bytes = json(doc);
          const m = typedOnly(() => parseImageManifest(bytes, type));
          if (m) for (const l of m.layers) expect(typeof l.digest).toBe("string");
          const c = typedOnly(() => parseImageConfig(bytes));
          if (c) expect(c.rootfs.diff_ids.every((d) => typeof d === "string")).toBe(true);
          const i = typedOnly(() => parseImageIndex(bytes));
          if (i) expect(Array.isArray(i.manifests)).toBe(true);
        },
      ),
      params,
    );
  });
});
