/**
 * End-to-end tests of what `commit` and `export` write (issue #4), on vfs and overlay: the
 * layer `commit` stores (through the driver's differ: native on overlay) is byte for byte
 * the one core's naive differ writes for the same container, and `export` streams the
 * container's whole filesystem, its changes included.
 */
import { mkdir, readFile, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  ContentStore,
  containerKey,
  initLayerName,
  MediaTypes,
  MountManager,
  NaiveDiffer,
  readTar,
  Tokens,
} from "@strata/core";
import { afterAll, beforeAll, describe, expect } from "vitest";
import {
  CONTAINER_DRIVERS,
  importSeedImage,
  itAsRoot,
  removeAllContainers,
} from "./helpers/containers.js";
import {
  cleanupTempDirs,
  createStrata,
  makeTempDir,
  run,
  type StrataCli,
  strataBin,
} from "./helpers/strata.js";

afterAll(cleanupTempDirs);

/** Changes of every kind a layer records: add, modify, delete, hardlink, symlink, mode, fifo. */
const CHANGES = [
  "echo x >> /etc/passwd",
  "rm /bin/ls",
  "mkdir -p /data/sub",
  "echo hello > /data/sub/f",
  "ln /data/sub/f /data/hard",
  "ln -s sub/f /data/link",
  "chmod 751 /root",
  "mkfifo /data/fifo",
  "dd if=/dev/zero of=/data/big bs=1024 count=3000 2>/dev/null",
].join(" && ");

/** Type, name, mode, size and link of each entry of a stored layer, in order. */
async function layerEntries(root: string, digest: string): Promise<string[]> {
  const store = new ContentStore(root);
  const out: string[] = [];
  for await (const e of readTar(await store.open(digest))) {
    const h = e.header;
    out.push(`${h.type} ${h.name} ${h.mode.toString(8)} ${h.size} ${h.linkname ?? ""}`);
    for await (const _ of e.chunks()) {
      // bodies are skipped: equal digests below say the bytes are equal too
    }
  }
  return out;
}

describe.each(CONTAINER_DRIVERS)("commit and export on %s", (driver) => {
  let cli: StrataCli;
  let id: string;

  beforeAll(async () => {
    cli = await createStrata({ driver });
    await importSeedImage(cli, "seed");
    id = (await cli.ok("create", "--name", "rich", "seed", "sh", "-c", CHANGES)).trim();
    await cli.ok("start", "-a", "rich");
  });
  afterAll(() => removeAllContainers(cli));

  itAsRoot("diff lists every change", async () => {
    expect(await cli.ok("diff", "rich")).toBe(
      [
        "C /bin",
        "D /bin/ls",
        "A /data",
        "A /data/big",
        "A /data/fifo",
        "A /data/hard",
        "A /data/link",
        "A /data/sub",
        "A /data/sub/f",
        "C /etc",
        "C /etc/passwd",
        "C /root",
        "",
      ].join("\n"),
    );
  });

  itAsRoot("the committed layer is byte for byte the naive differ's", async () => {
    // On overlay and aufs the commit goes through the native differ (the upper directory or
    // writable branch alone).
    const differ =
      { overlay: "OverlayDiffer", aufs: "AufsDiffer" }[driver as string] ?? "NaiveDiffer";
    expect(await cli.ok("info")).toContain(`  Differ: ${differ}\n`);
    const imageId = (await cli.ok("commit", "rich", "richimage")).trim();
    const inspect = JSON.parse(await cli.ok("image", "inspect", imageId))[0];
    const committed: string = inspect.RootFS.Layers.at(-1);
    const { createContainer } = await import("@strata/cli/dist/container.js");
    const comp = await createContainer({ root: cli.root, storageDriver: driver });
    try {
      const c = comp.container;
      const sn = c.resolve(Tokens.Snapshotter);
      const naive = new NaiveDiffer(c.resolve(ContentStore), c.resolve(MountManager));
      const lower = await sn.view("naive-check", initLayerName(id));
      try {
        const desc = await naive.diff(lower, await sn.mounts(containerKey(id)), {
          mediaType: MediaTypes.DockerLayer,
        });
        expect(await layerEntries(cli.root, committed)).toEqual(
          await layerEntries(cli.root, desc.digest),
        );
        expect(desc.digest).toBe(committed);
      } finally {
        await sn.remove("naive-check");
      }
    } finally {
      await comp.dispose();
    }
    // The layer holds the changes only: a whiteout for ls, no other file of busybox.
    const names = (await layerEntries(cli.root, committed)).map((l) => l.split(" ")[1]);
    expect(names).toContain("bin/.wh.ls");
    expect(names).not.toContain("bin/busybox");
    const history = await cli.ok("history", "--no-trunc", "richimage");
    expect(history.split("\n")[1]).toContain("sh -c echo x >> /etc/passwd");
    expect(history.split("\n")[1]).toMatch(/\s3\.07MB\s*$/);
  });

  itAsRoot("export streams the whole filesystem with the changes", async () => {
    const dir = await makeTempDir();
    const file = join(dir, "rich.tar");
    await cli.ok("export", "-o", file, "rich");
    const out = join(dir, "x");
    await mkdir(out);
    const untar = await run("tar", ["-xf", file, "-C", out]);
    expect(untar.code, untar.stderr).toBe(0);
    expect(await readFile(join(out, "data/sub/f"), "utf8")).toBe("hello\n");
    expect((await readFile(join(out, "etc/passwd"), "utf8")).endsWith("x\n")).toBe(true);
    expect(await readlink(join(out, "data/link"))).toBe("sub/f");
    expect((await stat(join(out, "data/hard"))).ino).toBe(
      (await stat(join(out, "data/sub/f"))).ino,
    );
    expect((await stat(join(out, "data/fifo"))).isFIFO()).toBe(true);
    expect((await stat(join(out, "root"))).mode & 0o777).toBe(0o751);
    expect((await stat(join(out, "bin/busybox"))).isFile()).toBe(true);
    await expect(stat(join(out, "bin/ls"))).rejects.toThrow();
    // Through standard output, the same bytes.
    const piped = join(dir, "piped.tar");
    const quoted = [process.execPath, strataBin, ...cli.globalArgs, "export", "rich"]
      .map((a) => `'${a}'`)
      .join(" ");
    expect((await run("sh", ["-c", `${quoted} > '${piped}'`])).code).toBe(0);
    expect((await readFile(piped)).equals(await readFile(file))).toBe(true);
  });
});
