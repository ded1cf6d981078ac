/**
 * Registry throughput (issue 5): `pull` and `push` against the real registry server on
 * loopback (`scripts/registry`), each beside its floor in the same run:
 *
 * - pull of an image with one large gzip layer into a fresh store, beside `skopeo copy` of
 *   the same image from the registry into an OCI directory (target: 0.8× its speed);
 * - push of an imported (uncompressed) layer, which strata gzips, to a registry that has
 *   nothing yet, beside `pigz -6` compressing the same tar (target: faster than pigz);
 * - a second push of the same image, which must upload nothing.
 *
 * The layer is a tar of this machine's own `/usr` files (real binaries, libraries and
 * text), so it compresses like a real image layer. strata is driven through its public API
 * in this process, wired by hand as a third party would; the floors are the real tools.
 */
import { spawnSync } from "node:child_process";
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  ContentStore,
  type DriverContext,
  ImagePuller,
  ImagePusher,
  ImageStore,
  LayerUnpacker,
  MetadataStore,
  MountManager,
  NaiveDiffer,
  type ProgressEvent,
  parseReference,
  RegistryClient,
  RegistryMetadata,
} from "@strata/core";
import { VfsSnapshotter } from "@strata/driver-vfs";

/** Options of {@link runRegistryBench}. */
export interface RegistryBenchOptions {
  /** Size of the pushed layer's tar in MB (issue 5 names 370). */
  megabytes: number;
  /** Samples of each measurement. */
  samples: number;
  /** Directory the scratch directory is made in. */
  scratchParent: string;
  log: (line: string) => void;
}

/** One measured operation and its floor: seconds per sample. */
export interface RegistryRow {
  name: string;
  floorName: string;
  seconds: number[];
  floorSeconds: number[];
  /** Floor's mean time over this operation's mean time (1 = as fast as the floor). */
  ratio: number;
}

/** What a run measured, and the targets checked against it. */
export interface RegistryBenchResult {
  layerBytes: number;
  compressedBytes: number;
  rows: RegistryRow[];
  secondPush: { seconds: number; uploads: number };
  targets: { description: string; measured: string; pass: boolean }[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const registryScript = path.join(repoRoot, "scripts/registry");

function sh(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${res.stderr || res.error}`);
  return res.stdout;
}

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** strata's services on a store root, wired by hand (vfs; pull and push never unpack). */
function openStore(root: string, configDir: string) {
  const meta = new MetadataStore(root);
  const content = new ContentStore(root);
  const context: DriverContext = {
    name: "vfs",
    storeRoot: root,
    root: path.join(root, "vfs"),
    options: {},
  };
  const unpacker = new LayerUnpacker(
    new VfsSnapshotter(context.root),
    new NaiveDiffer(content, new MountManager()),
    meta,
    context,
  );
  const images = new ImageStore(content, meta, unpacker);
  const client = new RegistryClient({
    configDir,
    dockerConfigFile: path.join(configDir, "none.json"),
  });
  const registryMeta = new RegistryMetadata(meta);
  return {
    images,
    content,
    /** Forget the gzip variants and blob locations a push recorded (a never-pushed store). */
    async forgetPushes() {
      const rows = meta.db.prepare("SELECT blob_digest FROM layer_variants").all() as {
        blob_digest: string;
      }[];
      meta.write((db) => {
        db.prepare("DELETE FROM layer_variants").run();
        db.prepare("DELETE FROM blob_sources").run();
        for (const r of rows)
          db.prepare("DELETE FROM image_blobs WHERE digest = ?").run(r.blob_digest);
      });
      for (const r of rows) await content.delete(r.blob_digest);
    },
    puller: new ImagePuller(client, images, content, registryMeta),
    pusher: new ImagePusher(client, images, content, registryMeta),
    async close() {
      await client.close();
      meta.close();
    },
  };
}

/** A tar of `/usr` files up to `bytes`, sorted, for a realistic layer. */
async function makeLayerTar(file: string, bytes: number): Promise<number> {
  const list = sh("bash", [
    "-c",
    "cd / && find usr/lib usr/share usr/bin -type f -size +1k 2>/dev/null | sort",
  ])
    .split("\n")
    .filter(Boolean);
  const picked: string[] = [];
  let total = 0;
  for (const f of list) {
    const st = await fs.stat(`/${f}`).catch(() => undefined);
    if (!st || total + st.size > bytes) continue;
    picked.push(f);
    total += st.size;
    if (total > bytes * 0.98) break;
  }
  await fs.writeFile(`${file}.list`, `${picked.join("\n")}\n`);
  sh("tar", ["-cf", file, "-C", "/", "--sort=name", "-T", `${file}.list`]);
  return (await fs.stat(file)).size;
}

/**
 * Run the registry measurements. Needs `docker-registry`, `skopeo` and `pigz` (the floors).
 * @throws when a tool is missing or an operation fails.
 */
export async function runRegistryBench(opts: RegistryBenchOptions): Promise<RegistryBenchResult> {
  const { log } = opts;
  await fs.mkdir(opts.scratchParent, { recursive: true });
  const scratch = await fs.mkdtemp(path.join(opts.scratchParent, "strata-registry-bench-"));
  const configDir = path.join(scratch, "config");
  let registryDir = "";
  const startRegistry = () => {
    registryDir = path.join(scratch, `registry-${Math.random().toString(36).slice(2)}`);
    return sh("bash", [registryScript, "start", registryDir]).trim();
  };
  const stopRegistry = () => {
    if (registryDir) sh("bash", [registryScript, "stop", registryDir]);
  };
  try {
    const tar = path.join(scratch, "layer.tar");
    const layerBytes = await makeLayerTar(tar, opts.megabytes * 1_000_000);
    log(`layer: ${(layerBytes / 1e6).toFixed(0)} MB tar of /usr files`);

    // Push of a new layer, beside pigz -6 of the same tar. Each sample starts from a store
    // without the gzip variant and a registry without the blob.
    const pushSeconds: number[] = [];
    const pigzSeconds: number[] = [];
    let address = "";
    let compressedBytes = 0;
    const store = openStore(path.join(scratch, "push-store"), configDir);
    await store.images.importImage(createReadStream(tar), {
      sourceName: "-",
      reference: "bench/layer:v1",
    });
    for (let i = 0; i < opts.samples; i++) {
      pigzSeconds.push(await timed(() => sh("bash", ["-c", `pigz -6 -c '${tar}' > /dev/null`])));
      stopRegistry();
      address = startRegistry();
      await store.forgetPushes();
      await store.images.tag("bench/layer:v1", `${address}/bench/layer:v1`);
      const ref = parseReference(`${address}/bench/layer:v1`);
      pushSeconds.push(await timed(() => store.pusher.push(ref)));
      if (i === opts.samples - 1) {
        // The same image again: everything is in the registry, nothing is uploaded.
        let uploads = 0;
        const onProgress = (e: ProgressEvent) => {
          if (e.status === "Pushing" || e.status === "Pushed") uploads++;
        };
        const again = await timed(() => store.pusher.push(ref, { onProgress }));
        const pushed = await store.pusher.push(ref);
        const manifest = JSON.parse(
          (await store.content.readVerified(pushed.digest)).toString(),
        ) as {
          layers: { size: number }[];
        };
        compressedBytes = manifest.layers.reduce((n, l) => n + l.size, 0);
        await store.close();
        log(
          `push ${mean(pushSeconds).toFixed(2)} s, pigz -6 ${mean(pigzSeconds).toFixed(2)} s, second push ${again.toFixed(2)} s`,
        );
        // Pull of the pushed image into a fresh store, beside skopeo copy into an OCI dir.
        const pullSeconds: number[] = [];
        const skopeoSeconds: number[] = [];
        for (let j = 0; j < opts.samples; j++) {
          const oci = path.join(scratch, `skopeo-${j}`);
          skopeoSeconds.push(
            await timed(() =>
              sh("skopeo", [
                "copy",
                "-q",
                "--src-tls-verify=false",
                `docker://${address}/bench/layer:v1`,
                `oci:${oci}:v1`,
              ]),
            ),
          );
          await fs.rm(oci, { recursive: true, force: true });
          const pullRoot = path.join(scratch, `pull-store-${j}`);
          const pulling = openStore(pullRoot, configDir);
          pullSeconds.push(await timed(() => pulling.puller.pull(ref)));
          await pulling.close();
          await fs.rm(pullRoot, { recursive: true, force: true });
        }
        log(
          `pull ${mean(pullSeconds).toFixed(2)} s, skopeo copy ${mean(skopeoSeconds).toFixed(2)} s`,
        );
        const rows: RegistryRow[] = [
          row(
            "pull (into the content store)",
            "skopeo copy docker:// oci:",
            pullSeconds,
            skopeoSeconds,
          ),
          row("push of a new layer (gzip on every core)", "pigz -6 -c", pushSeconds, pigzSeconds),
        ];
        return {
          layerBytes,
          compressedBytes,
          rows,
          secondPush: { seconds: again, uploads },
          targets: [
            {
              description: "pull at ≥ 0.8× the speed of skopeo copy into an OCI directory",
              measured: `${rows[0]!.ratio.toFixed(2)}×`,
              pass: rows[0]!.ratio >= 0.8,
            },
            {
              description: "push of a new layer faster than pigz -6 compresses it",
              measured: `${mean(pushSeconds).toFixed(2)} s vs ${mean(pigzSeconds).toFixed(2)} s`,
              pass: mean(pushSeconds) < mean(pigzSeconds),
            },
            {
              description: "a second push of the same image uploads nothing",
              measured: `${uploads} uploads, ${again.toFixed(2)} s`,
              pass: uploads === 0,
            },
          ],
        };
      }
    }
    await store.close();
    throw new Error("registry bench: no samples");
  } finally {
    stopRegistry();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

function row(
  name: string,
  floorName: string,
  seconds: number[],
  floorSeconds: number[],
): RegistryRow {
  return { name, floorName, seconds, floorSeconds, ratio: mean(floorSeconds) / mean(seconds) };
}

/** The result as a Markdown table and target list. */
export function renderRegistryReport(r: RegistryBenchResult): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  const lines = [
    `## Registry throughput (layer: ${mb(r.layerBytes)} tar, ${mb(r.compressedBytes)} gzip)`,
    "",
    "| operation | mean s | floor | floor mean s | ratio |",
    "| --- | ---: | --- | ---: | ---: |",
    ...r.rows.map(
      (x) =>
        `| ${x.name} | ${mean(x.seconds).toFixed(2)} | ${x.floorName} | ${mean(x.floorSeconds).toFixed(2)} | ${x.ratio.toFixed(2)}× |`,
    ),
    `| second push of the same image | ${r.secondPush.seconds.toFixed(2)} | — | — | ${r.secondPush.uploads} uploads |`,
    "",
    ...r.targets.map((t) => `- ${t.pass ? "PASS" : "FAIL"} ${t.description}: ${t.measured}`),
  ];
  return `${lines.join("\n")}\n`;
}
