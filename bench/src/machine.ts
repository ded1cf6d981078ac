import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
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
  /** Versions of strata's packages and of benchmark.js. */
  packages: Record<string, string>;
  uid: number;
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
    packages: Object.fromEntries(
      ["@strata/core", "@strata/driver-vfs", "@strata/driver-overlay", "benchmark"].map((n) => [
        n,
        packageVersion(n),
      ]),
    ),
    uid: process.getuid?.() ?? -1,
  };
}
