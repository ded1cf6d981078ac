import type { NetworkMode } from "./container-types.js";
import type { ResolvedUser } from "./rootfs-lookup.js";

/** A mount in an OCI runtime config (`config.json`'s `mounts`). */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** The process part of an OCI runtime config, also what `runc exec --process` reads. */
export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: Record<"bounding" | "effective" | "permitted", string[]>;
  rlimits: { type: string; hard: number; soft: number }[];
  noNewPrivileges: boolean;
}

/** What {@link buildOciSpec} turns into a `config.json`. */
export interface OciSpecInput {
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  terminal: boolean;
  hostname: string;
  network: NetworkMode;
  /** Bind mounts of the container (`-v`, and the `/etc/hosts`-style files). */
  binds: OciMount[];
}

/** The capabilities docker grants a container by default (moby's `DefaultCapabilities`). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Paths docker hides from containers (moby's `DefaultSpec`). */
const MASKED_PATHS = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

/** Paths docker makes read-only in containers. */
const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** The process part of a container's runtime config (shared by `run` and `exec`). */
export function ociProcess(
  input: Pick<OciSpecInput, "args" | "env" | "cwd" | "user" | "terminal">,
): OciProcess {
  const caps = [...DEFAULT_CAPABILITIES];
  const user: OciProcess["user"] = { uid: input.user.uid, gid: input.user.gid };
  if (input.user.additionalGids.length > 0) user.additionalGids = input.user.additionalGids;
  return {
    terminal: input.terminal,
    user,
    args: input.args,
    env: input.env,
    cwd: input.cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    // No rlimits: the container inherits strata's, as docker's inherit the daemon's.
    rlimits: [],
    noNewPrivileges: false,
  };
}

/**
 * The OCI runtime config (`config.json`) of a container, as docker would give runc: the
 * rootfs at `rootfs/` in the bundle (writable), new mount, pid, uts and ipc namespaces,
 * a new (empty, loopback-only) network namespace unless the network is `host`, docker's
 * default capabilities, masked and read-only paths, and the usual `/proc`, `/dev`, `/sys`
 * mounts followed by the binds.
 */
export function buildOciSpec(input: OciSpecInput): Record<string, unknown> {
  const namespaces = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (input.network === "none") namespaces.push({ type: "network" });
  const mounts: OciMount[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", "ro"],
    },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["ro", "nosuid", "noexec", "nodev"],
    },
    {
      destination: "/dev/mqueue",
      type: "mqueue",
      source: "mqueue",
      options: ["nosuid", "noexec", "nodev"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    ...input.binds,
  ];
  return {
    ociVersion: "1.0.2-dev",
    process: ociProcess(input),
    root: { path: "rootfs", readonly: false },
    hostname: input.hostname,
    mounts,
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces,
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}

/**
 * The environment a container's process gets, as docker builds it: `PATH` (docker's
 * default), `HOSTNAME` and, with a terminal, `TERM=xterm`, then the container's own
 * variables, which win over those.
 */
export function containerEnv(own: readonly string[], hostname: string, tty: boolean): string[] {
  const out = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `HOSTNAME=${hostname}`,
  ];
  if (tty) out.push("TERM=xterm");
  return mergeEnv(out, own);
}

/** `base` with each `KEY=VALUE` of `over` replacing the same key or appended (docker's). */
export function mergeEnv(base: readonly string[], over: readonly string[]): string[] {
  const out = [...base];
  for (const e of over) {
    const key = e.split("=", 1)[0];
    const i = out.findIndex((x) => x.split("=", 1)[0] === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}
