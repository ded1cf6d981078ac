/**
 * Images seeded into a registry by third-party tools: `umoci` builds an OCI image from the
 * busybox rootfs and `skopeo copy` pushes it as OCI, as docker schema 2, with plain and
 * zstd layers, and as a two-platform index; plus a two-layer image with a big random layer
 * and an image of several small layers.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { must } from "./registry.js";
import { makeBusyboxRootfs } from "./strata.js";

/** One seeded image: its reference, manifest digest, config digest and layer digests. */
export interface SeededImage {
  ref: string;
  digest: string;
  config: string;
  layers: string[];
}

/** What {@link seedImages} pushed. */
export interface SeededImages {
  /** The rootfs tarball the images were built from, and the directory it was unpacked to. */
  rootfsTar: string;
  rootfsDir: string;
  /** OCI manifest, gzip layer: `ADDR/library/busybox:latest`. */
  oci: SeededImage;
  /** Docker schema 2 manifest: `ADDR/library/busybox:v2s2`. */
  v2s2: SeededImage;
  /** OCI manifest with an uncompressed layer: `ADDR/plain/busybox:latest`. */
  plain: SeededImage;
  /** OCI manifest with a zstd layer: `ADDR/zstd/busybox:latest`. */
  zstd: SeededImage;
  /** Index of linux/amd64 and linux/arm64/v8: `ADDR/library/multi:latest`. */
  multi: SeededImage & { amd64: SeededImage; arm64: SeededImage };
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** A small OCI image layout editor: add blobs and named manifests. */
class Layout {
  constructor(readonly dir: string) {}

  async blob(digest: string): Promise<Buffer> {
    return readFile(join(this.dir, "blobs/sha256", digest.replace(/^sha256:/, "")));
  }

  async json<T>(digest: string): Promise<T> {
    return JSON.parse((await this.blob(digest)).toString("utf8")) as T;
  }

  async put(data: Buffer | string): Promise<{ digest: string; size: number }> {
    const buf = Buffer.from(data);
    const digest = sha256(buf);
    await writeFile(join(this.dir, "blobs/sha256", digest.slice(7)), buf);
    return { digest, size: buf.length };
  }

  async index(): Promise<{
    manifests: {
      digest: string;
      mediaType: string;
      size: number;
      annotations?: Record<string, string>;
    }[];
  }> {
    return JSON.parse(await readFile(join(this.dir, "index.json"), "utf8"));
  }

  async manifestOf(name: string): Promise<string> {
    const m = (await this.index()).manifests.find(
      (d) => d.annotations?.["org.opencontainers.image.ref.name"] === name,
    );
    if (!m) throw new Error(`layout has no ${name}`);
    return m.digest;
  }

  async name(
    name: string,
    desc: { digest: string; size: number; mediaType: string },
  ): Promise<void> {
    const idx = await this.index();
    idx.manifests.push({ ...desc, annotations: { "org.opencontainers.image.ref.name": name } });
    await writeFile(join(this.dir, "index.json"), JSON.stringify(idx));
  }
}

interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
}

/**
 * Build the busybox image with umoci and push it into the registry at `address` in every
 * shape the tests pull (see {@link SeededImages}), with skopeo.
 */
export async function seedImages(address: string, work: string): Promise<SeededImages> {
  await mkdir(work, { recursive: true });
  const rootfsTar = await makeBusyboxRootfs(work);
  const rootfsDir = join(work, "rootfs");
  await mkdir(rootfsDir, { recursive: true });
  await must("tar", ["-xf", rootfsTar, "-C", rootfsDir]);
  const dir = join(work, "oci");
  const image = `${dir}:latest`;
  await must("umoci", ["init", "--layout", dir]);
  await must("umoci", ["new", "--image", image]);
  await must("umoci", ["insert", "--image", image, rootfsDir, "/"]);
  await must("umoci", [
    "config",
    "--image",
    image,
    "--config.cmd",
    "/bin/sh",
    "--architecture",
    "amd64",
    "--os",
    "linux",
  ]);
  const layout = new Layout(dir);
  const base = await layout.json<OciManifest>(await layout.manifestOf("latest"));

  const copy = (name: string, dest: string, ...flags: string[]) =>
    must("skopeo", [
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      ...flags,
      `oci:${dir}:${name}`,
      `docker://${address}/${dest}`,
    ]);
  const inspect = async (ref: string) => {
    const raw = await must("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
    const m = JSON.parse(raw) as Partial<OciManifest>;
    return {
      ref,
      digest: sha256(raw),
      config: m.config?.digest ?? "",
      layers: (m.layers ?? []).map((l) => l.digest),
    };
  };

  await copy("latest", "library/busybox:latest", "--preserve-digests");
  await copy("latest", "library/busybox:v2s2", "--format", "v2s2");

  // Uncompressed and zstd variants of the same layer, pushed byte for byte.
  const gz = base.layers[0]!;
  const plainBytes = gunzipSync(await layout.blob(gz.digest));
  const plainBlob = await layout.put(plainBytes);
  const zstdPath = join(work, "layer.tar.zst");
  await writeFile(join(work, "layer.tar"), plainBytes);
  await must("zstd", ["-q", "-f", "-3", join(work, "layer.tar"), "-o", zstdPath]);
  const zstdBlob = await layout.put(await readFile(zstdPath));
  for (const [name, blob, mediaType] of [
    ["plain", plainBlob, "application/vnd.oci.image.layer.v1.tar"],
    ["zstd", zstdBlob, "application/vnd.oci.image.layer.v1.tar+zstd"],
  ] as const) {
    const m: OciManifest = { ...base, layers: [{ mediaType, ...blob }] };
    const put = await layout.put(JSON.stringify(m));
    await layout.name(name, { mediaType: "application/vnd.oci.image.manifest.v1+json", ...put });
    await copy(name, `${name}/busybox:latest`, "--preserve-digests");
  }

  // A two-platform index: the same layer under an amd64 and an arm64/v8 config.
  const config = await layout.json<Record<string, unknown>>(base.config.digest);
  const armConfig = await layout.put(
    JSON.stringify({ ...config, architecture: "arm64", variant: "v8" }),
  );
  const armManifest = await layout.put(
    JSON.stringify({ ...base, config: { ...base.config, ...armConfig } } satisfies OciManifest),
  );
  const amdManifest = await layout.put(JSON.stringify(base));
  const index = await layout.put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...amdManifest,
          platform: { architecture: "amd64", os: "linux" },
        },
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...armManifest,
          platform: { architecture: "arm64", os: "linux", variant: "v8" },
        },
      ],
    }),
  );
  await layout.name("multi", { mediaType: "application/vnd.oci.image.index.v1+json", ...index });
  await copy("multi", "library/multi:latest", "--all", "--preserve-digests");

  const multi = await inspect(`${address}/library/multi:latest`);
  return {
    rootfsTar,
    rootfsDir,
    oci: await inspect(`${address}/library/busybox:latest`),
    v2s2: await inspect(`${address}/library/busybox:v2s2`),
    plain: await inspect(`${address}/plain/busybox:latest`),
    zstd: await inspect(`${address}/zstd/busybox:latest`),
    multi: {
      ...multi,
      config: "",
      layers: [],
      amd64: {
        ref: `${address}/library/multi@${amdManifest.digest}`,
        digest: amdManifest.digest,
        config: base.config.digest,
        layers: [gz.digest],
      },
      arm64: {
        ref: `${address}/library/multi@${armManifest.digest}`,
        digest: armManifest.digest,
        config: armConfig.digest,
        layers: [gz.digest],
      },
    },
  };
}

/**
 * Push a two-layer image to `ADDR/big/layer:latest`: a small first layer (one text file)
 * and a second one holding `bytes` of random (incompressible) data, for tests that need a
 * download to take a while. `layers` are [small, big].
 */
export async function seedBigImage(
  address: string,
  work: string,
  bytes: number,
): Promise<SeededImage> {
  await mkdir(work, { recursive: true });
  const dir = join(work, "big-oci");
  const small = join(work, "big-small");
  const big = join(work, "big-random");
  await mkdir(join(small, "etc"), { recursive: true });
  await mkdir(join(big, "data"), { recursive: true });
  await writeFile(join(small, "etc/motd"), "small first layer\n");
  await must("bash", ["-c", `head -c ${bytes} /dev/urandom > '${join(big, "data/random.bin")}'`]);
  await must("umoci", ["init", "--layout", dir]);
  await must("umoci", ["new", "--image", `${dir}:latest`]);
  await must("umoci", ["insert", "--image", `${dir}:latest`, small, "/"]);
  await must("umoci", ["insert", "--image", `${dir}:latest`, big, "/"]);
  await must("umoci", [
    "config",
    "--image",
    `${dir}:latest`,
    "--architecture",
    "amd64",
    "--os",
    "linux",
  ]);
  return pushLayout(address, `oci:${dir}:latest`, "big/layer:latest");
}

/** Push an image of `count` small layers to `ADDR/layered/image:latest`. */
export async function seedLayeredImage(
  address: string,
  work: string,
  count: number,
): Promise<SeededImage> {
  await mkdir(work, { recursive: true });
  const dir = join(work, "layered-oci");
  await must("umoci", ["init", "--layout", dir]);
  await must("umoci", ["new", "--image", `${dir}:latest`]);
  for (let i = 0; i < count; i++) {
    const layer = join(work, `layer-${i}`);
    await mkdir(layer, { recursive: true });
    await writeFile(join(layer, `file-${i}`), `layer ${i}\n`.repeat(1000 * (i + 1)));
    await must("umoci", ["insert", "--image", `${dir}:latest`, layer, "/"]);
  }
  await must("umoci", [
    "config",
    "--image",
    `${dir}:latest`,
    "--architecture",
    "amd64",
    "--os",
    "linux",
  ]);
  return pushLayout(address, `oci:${dir}:latest`, "layered/image:latest");
}

async function pushLayout(address: string, source: string, dest: string): Promise<SeededImage> {
  const ref = `${address}/${dest}`;
  await must("skopeo", [
    "copy",
    "--quiet",
    "--dest-tls-verify=false",
    "--preserve-digests",
    source,
    `docker://${ref}`,
  ]);
  const raw = await must("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
  const m = JSON.parse(raw) as OciManifest;
  return {
    ref,
    digest: sha256(raw),
    config: m.config.digest,
    layers: m.layers.map((l) => l.digest),
  };
}
