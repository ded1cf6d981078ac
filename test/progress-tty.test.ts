/**
 * End-to-end tests of progress output on a real terminal (issue #9): `strata pull` in a
 * tmux pane (a private tmux server) against the real registry behind a throttling proxy,
 * its screen read with `capture-pane` while layers download: one line per layer, redrawn
 * in place with docker's bar. The same pull piped prints plain lines and no escape
 * sequences. Unpacking an image on its first use (`create`), `commit` and `cp` show their
 * progress on a terminal too (the raw bytes read through `pipe-pane`), and nothing piped.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  importSeedImage,
  itAsRoot,
  removeAllContainers,
} from "./helpers/containers.js";
import { type RegistryServer, registryCli, startRegistry } from "./helpers/registry.js";
import { type SeededImage, seedBigImage } from "./helpers/registry-seed.js";
import {
  cleanupTempDirs,
  createStrata,
  makeTempDir,
  run,
  type StrataCli,
  strataBin,
} from "./helpers/strata.js";
import { startProxy, type TcpProxy } from "./helpers/tcp-proxy.js";

/** A private tmux server, so the tests never touch a user's sessions. */
const socket = `strata-progress-${process.pid}`;
const tmux = (...args: string[]) => run("tmux", ["-L", socket, ...args], { timeoutMs: 30_000 });

let registry: RegistryServer;
let proxy: TcpProxy;
let big: SeededImage;
let config: string;
/** The big layer: 6 MiB of random bytes, about 3 s through the proxy. */
const BIG_BYTES = 6 * 1024 * 1024;

beforeAll(async () => {
  const work = await makeTempDir("strata-progress-");
  registry = await startRegistry(join(work, "registry"));
  big = await seedBigImage(registry.address, join(work, "seed"), BIG_BYTES);
  proxy = await startProxy(registry.address, { bytesPerSecond: 2 * 1024 * 1024 });
  config = join(work, "config");
});
afterAll(async () => {
  await tmux("kill-server");
  await proxy?.close();
  await registry?.stop();
  await cleanupTempDirs();
});

const short = (digest: string) => digest.slice(7, 19);
const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;

/** The shell line running strata in a pane, then reporting its exit code and lingering. */
function strataLine(cli: StrataCli, args: string[]): string {
  const env = registryCli(cli, config).env;
  const words = [
    "env",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    process.execPath,
    strataBin,
    ...cli.globalArgs,
    ...args,
  ];
  return `${words.map(quote).join(" ")}; echo STRATA_EXIT=$?; sleep 600`;
}

/** What the pane shows now, trailing blank lines dropped. */
async function screen(pane: string): Promise<string[]> {
  const lines = (await tmux("capture-pane", "-p", "-t", pane)).stdout.split("\n");
  while (lines.length > 0 && lines.at(-1)?.trim() === "") lines.pop();
  return lines.map((l) => l.trimEnd());
}

describe("pull progress on a terminal (tmux)", () => {
  it("redraws each layer's line in place while downloading, then ends as docker's", async () => {
    const cli = await createStrata({ driver: "vfs" });
    const ref = big.ref.replace(registry.address, proxy.address);
    const [small, large] = [short(big.layers[0]!), short(big.layers[1]!)];
    const pane = "pull";
    const started = await tmux(
      "new-session",
      ...["-d", "-s", pane, "-x", "160", "-y", "40"],
      strataLine(cli, ["pull", ref]),
    );
    expect(started.code, started.stderr).toBe(0);
    const shots: string[][] = [];
    try {
      await eventually(async () => {
        const lines = await screen(pane);
        shots.push(lines);
        return lines.some((l) => l.startsWith("STRATA_EXIT="));
      }, 120_000);
    } finally {
      await tmux("kill-session", "-t", pane);
    }

    // Screens taken while the big layer was downloading: its line holds docker's bar.
    const bar = new RegExp(`^${large}: Downloading \\[=*>? *\\] +[0-9.]+[kM]?B/6\\.294MB$`);
    const during = shots.filter((s) => s.some((l) => bar.test(l)));
    expect(during.length, shots.map((s) => s.join("\n")).join("\n---\n")).toBeGreaterThan(1);
    const counts = new Set(during.map((s) => s.find((l) => bar.test(l))));
    expect(counts.size).toBeGreaterThan(1); // the count moved…
    // …on the same line: the block of layer lines keeps its place and its size.
    const places = new Set(during.map((s) => s.findIndex((l) => bar.test(l))));
    expect(places.size).toBe(1);
    const blockSizes = new Set(
      during.map((s) => s.filter((l) => /^[0-9a-f]{12}: /.test(l)).length),
    );
    expect(blockSizes.size).toBe(1);

    const last = shots.at(-1)!;
    expect(last).toEqual([
      "latest: Pulling from big/layer",
      `${small}: Pull complete`,
      `${large}: Pull complete`,
      expect.stringMatching(/^Digest: sha256:[0-9a-f]{64}$/),
      `Status: Downloaded newer image for ${ref}`,
      ref,
      "STRATA_EXIT=0",
    ]);
  });

  it("prints plain lines when piped: no escape sequences, no byte counts", async () => {
    const cli = registryCli(await createStrata({ driver: "vfs" }), config);
    const ref = big.ref.replace(registry.address, proxy.address);
    const res = await cli.run(["pull", ref]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).not.toContain("\x1b");
    expect(res.stdout).not.toContain("\r");
    expect(res.stdout).not.toContain("Downloading");
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("latest: Pulling from big/layer");
    for (const id of big.layers.map(short)) {
      expect(lines).toContain(`${id}: Pulling fs layer`);
      expect(lines).toContain(`${id}: Pull complete`);
    }
    expect(lines.slice(-3)).toEqual([
      expect.stringMatching(/^Digest: sha256:[0-9a-f]{64}$/),
      `Status: Downloaded newer image for ${ref}`,
      ref,
    ]);
  });
});

/**
 * Run strata in a new pane whose raw output is recorded (`pipe-pane`) from the first byte:
 * the pane waits for a key before starting. Returns the final screen and the raw bytes.
 */
async function recordPane(
  pane: string,
  cli: StrataCli,
  args: string[],
): Promise<{ screen: string[]; raw: string }> {
  const raw = join(await makeTempDir("strata-pane-"), "raw");
  const started = await tmux(
    "new-session",
    ...["-d", "-s", pane, "-x", "160", "-y", "40"],
    `read go; ${strataLine(cli, args)}`,
  );
  expect(started.code, started.stderr).toBe(0);
  try {
    await tmux("pipe-pane", "-o", "-t", pane, `cat >> '${raw}'`);
    await tmux("send-keys", "-t", pane, "Enter");
    let last: string[] = [];
    await eventually(async () => {
      last = await screen(pane);
      return last.some((l) => l.startsWith("STRATA_EXIT="));
    }, 120_000);
    return { screen: last, raw: await readFile(raw, "utf8") };
  } finally {
    await tmux("kill-session", "-t", pane);
  }
}

describe("unpacking and commit progress on a terminal (tmux)", () => {
  /** A store holding a container that wrote 20 MB; its image is made of two layers. */
  let cli: StrataCli;
  /** The same two-layer image saved to an archive, to be loaded (not yet unpacked) elsewhere. */
  let archive: string;
  let layers: string[];
  beforeAll(async () => {
    cli = await createStrata({ driver: "vfs" });
    await importSeedImage(cli, "seed");
    await cli.ok(
      ...["run", "--name", "writer", "seed"],
      ...["sh", "-c", "head -c 20000000 /dev/urandom > /big"],
    );
    await cli.ok("commit", "writer", "two-layers");
    archive = join(await makeTempDir("strata-progress-save-"), "two-layers.tar");
    await cli.ok("save", "-o", archive, "two-layers");
    const inspect = JSON.parse(await cli.ok("inspect", "two-layers"))[0];
    expect(inspect.RootFS.Layers).toHaveLength(2);
    // The layers are stored uncompressed: their blob digests are their diff IDs.
    layers = inspect.RootFS.Layers.map(short);
  });
  afterAll(() => removeAllContainers(cli));

  itAsRoot("create: each layer unpacked on first use has a line, drawn in place", async () => {
    const fresh = await createStrata({ driver: "vfs" });
    await fresh.ok("load", "-i", archive); // stored, not yet unpacked for vfs
    const [base, top] = layers as [string, string];
    const { screen: last, raw } = await recordPane("create", fresh, [
      ...["create", "--name", "first", "two-layers"],
    ]);
    expect(last.slice(1)).toEqual([
      `${base}: Extract complete`,
      `${top}: Extract complete`,
      expect.stringMatching(/^[0-9a-f]{64}$/),
      "STRATA_EXIT=0",
    ]);
    // The big layer's line was drawn with a bar of the blob's size before it completed,
    // and redrawn on the same line (cursor up, erase line) rather than appended.
    expect(raw).toMatch(
      new RegExp(
        `\\x1b\\[1A\\x1b\\[2K\\r${top}: Extracting \\[[= >]+\\] +[0-9.]+[kM]?B/20(\\.[0-9]+)?MB\\r`,
      ),
    );
    expect(raw).toContain(`\x1b[1A\x1b[2K\r${top}: Extract complete\r`);

    // Both layers are unpacked now: a second container shows nothing.
    const again = await recordPane("create2", fresh, ["create", "two-layers"]);
    expect(again.screen.slice(1)).toEqual([
      expect.stringMatching(/^[0-9a-f]{64}$/),
      "STRATA_EXIT=0",
    ]);
    await removeAllContainers(fresh);
    // Piped, a first use shows nothing either.
    const other = await createStrata({ driver: "vfs" });
    await other.ok("load", "-i", archive);
    const piped = await other.run(["create", "two-layers"]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe("");
    expect(piped.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    await removeAllContainers(other);
  });

  itAsRoot("commit: the layer's bytes counted on one line, erased when done", async () => {
    const { screen: last, raw } = await recordPane("commit", cli, ["commit", "writer", "snap"]);
    // The screen ends as docker's: the new image ID alone.
    expect(last.slice(1)).toEqual([
      expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      "STRATA_EXIT=0",
    ]);
    // Drawn (carriage return, erase line), then erased before the ID was printed.
    const line = String.raw`\r\x1b\[2KCommitting layer +[0-9.]+[kMG]?B`;
    expect(raw.match(new RegExp(line, "g"))?.length).toBeGreaterThan(0);
    expect(raw).toMatch(new RegExp(String.raw`${line}\r\x1b\[2Ksha256:[0-9a-f]{64}\r\n`));
    const piped = await cli.run(["commit", "writer", "snap2"]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe("");
    expect(piped.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });

  itAsRoot(
    "cp: the bytes copied counted on one line, then docker's summary (none piped)",
    async () => {
      const dest = join(await makeTempDir("strata-progress-cp-"), "big");
      const { screen: last, raw } = await recordPane("cp", cli, ["cp", "writer:/big", dest]);
      expect(last.slice(1)).toEqual([`Successfully copied 20MB to ${dest}`, "STRATA_EXIT=0"]);
      const line = String.raw`\r\x1b\[2KCopying from container - +[0-9.]+[kMG]?B`;
      expect(raw).toMatch(new RegExp(String.raw`${line}\r\x1b\[2KSuccessfully copied 20MB`));
      const piped = await cli.run(["cp", "writer:/big", `${dest}.2`]);
      expect(piped.code, piped.stderr).toBe(0);
      expect(piped.stderr).toBe(""); // docker's cp is quiet without a terminal
    },
  );
});
