import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { backingFilesystem } from "@strata/core";
import { toolVersion } from "./floors.js";

/** The machine a run happened on: what a reader needs to compare two reports. */
export interface Machine {
  host: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  /** Filesystem type of the scratch directory the trees live in. */
  scratchFilesystem: string;
  tar: string;
  sha256sum: string;
  /** Versions of the other tools the run uses as floors or peers. */
  tools: Record<string, string>;
  /** Versions of strata's packages and of benchmark.js. */
  packages: Record<string, string>;
  /** The checkout's commit, with `-dirty` when packages or bench have local changes. */
  revision: string;
  uid: number;
}

/** How busy the machine was: what says whether a run's absolute times can be trusted. */
export interface Load {
  /** 1-minute load average. */
  loadavg1: number;
  /** Share of the last 60 s some task waited for a CPU, percent (Linux PSI), if known. */
  cpuPressure60?: number;
  /** The same for I/O. */
  ioPressure60?: number;
  /**
   * How many times the kernel log says some process dropped the page cache
   * (`echo 3 > /proc/sys/vm/drop_caches`) since boot, when the log is readable. Another
   * process doing it during a run makes file creation and reads stall for seconds.
   */
  dropCaches?: number;
}

const require = createRequire(import.meta.url);

/** A dependency's version, from the package.json above its entry point (`exports` may hide it). */
function packageVersion(name: string): string {
  try {
    let dir = path.dirname(require.resolve(name));
    for (;;) {
      const file = path.join(dir, "package.json");
      if (fs.existsSync(file)) {
        const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as {
          name?: string;
          version?: string;
        };
        if (pkg.name === name) return pkg.version ?? "unknown";
      }
      const up = path.dirname(dir);
      if (up === dir) return "unknown";
      dir = up;
    }
  } catch {
    return "unknown";
  }
}

function osRelease(): string {
  try {
    const text = fs.readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

function pressure(kind: "cpu" | "io"): number | undefined {
  try {
    const text = fs.readFileSync(`/proc/pressure/${kind}`, "utf8");
    const v = /^some .*avg60=([\d.]+)/m.exec(text)?.[1];
    return v === undefined ? undefined : Number(v);
  } catch {
    return undefined;
  }
}

/** The machine's load right now. */
export function currentLoad(): Load {
  const load: Load = { loadavg1: Math.round(os.loadavg()[0]! * 100) / 100 };
  const cpu = pressure("cpu");
  const io = pressure("io");
  if (cpu !== undefined) load.cpuPressure60 = cpu;
  if (io !== undefined) load.ioPressure60 = io;
  const drops = dropCacheCount();
  if (drops !== undefined) load.dropCaches = drops;
  return load;
}

/** Page-cache drops the kernel log has recorded since boot, if it can be read. */
export function dropCacheCount(): number | undefined {
  try {
    const log = execFileSync("dmesg", [], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return log.split("\n").filter((l) => l.includes("drop_caches")).length;
  } catch {
    return undefined;
  }
}

function revision(dir: string): string {
  try {
    const git = (args: string[]) =>
      execFileSync("git", ["-C", dir, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    const rev = git(["rev-parse", "--short=12", "HEAD"]);
    const top = git(["rev-parse", "--show-toplevel"]);
    const dirty = git(["-C", top, "status", "--porcelain", "--", "packages", "bench/src"]) !== "";
    return dirty ? `${rev}-dirty` : rev;
  } catch {
    return "unknown";
  }
}

/** Describe this machine; `scratch` is where the bench keeps its trees. */
export async function describeMachine(scratch: string): Promise<Machine> {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    os: osRelease(),
    node: process.version,
    scratchFilesystem: await backingFilesystem(scratch).catch(() => "unknown"),
    tar: await toolVersion("tar"),
    sha256sum: await toolVersion("sha256sum"),
    tools: {
      "fuse-overlayfs": await toolVersion("fuse-overlayfs", /^fuse-overlayfs/),
      skopeo: await toolVersion("skopeo"),
      "docker-registry": await toolVersion("docker-registry"),
      pigz: await toolVersion("pigz"),
      find: await toolVersion("find"),
    },
    packages: Object.fromEntries(
      [
        "@strata/core",
        "@strata/driver-vfs",
        "@strata/driver-overlay",
        "@strata/driver-aufs",
        "benchmark",
      ].map((n) => [n, packageVersion(n)]),
    ),
    revision: revision(path.dirname(fileURLToPath(import.meta.url))),
    uid: process.getuid?.() ?? -1,
  };
}
