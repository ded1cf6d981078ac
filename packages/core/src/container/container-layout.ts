import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Where a container's pieces live: its snapshot keys in the driver and its files in the
 * store. One container is:
 *
 * ```
 * snapshot container-<id>-init   committed: docker's init layer (mount points and the
 *                                /etc files runc binds over), child of the image's top
 * snapshot container-<id>        active: the container's writable layer, child of init
 * <root>/containers/<id>/        the OCI bundle: config.json, rootfs/ (the mount point),
 *                                hostname, hosts, resolv.conf, <id>-json.log, runc.log
 * <root>/runc/<id>/              runc's own state while it runs
 * ```
 *
 * `diff` and `commit` compare the container's layer with its init layer, so what runc
 * needs to exist never shows up as a change (docker's `<id>-init` layer, same reason).
 */
export class ContainerLayout {
  /** @param storeRoot the store root (`--root`). */
  constructor(readonly storeRoot: string) {}

  /** runc's `--root`. */
  get runcRoot(): string {
    return path.join(this.storeRoot, "runc");
  }

  /** The bundle directory of a container. */
  bundle(id: string): string {
    return path.join(this.storeRoot, "containers", id);
  }

  /** Where the container's root filesystem is mounted while it runs. */
  rootfs(id: string): string {
    return path.join(this.bundle(id), "rootfs");
  }

  /** The container's output in docker's json-file format. */
  logFile(id: string): string {
    return path.join(this.bundle(id), `${id}-json.log`);
  }

  /** runc's own log (JSON), which tells runc's failures from the command's. */
  runcLog(id: string): string {
    return path.join(this.bundle(id), "runc.log");
  }

  /** What the detached supervisor itself writes (its own crashes, never container output). */
  supervisorLog(id: string): string {
    return path.join(this.bundle(id), "supervisor.log");
  }
}

/** The container's writable snapshot. */
export function containerKey(id: string): string {
  return `container-${id}`;
}

/** The container's committed init layer (the parent of its writable snapshot). */
export function initLayerName(id: string): string {
  return `container-${id}-init`;
}

/** The active key the init layer is made under before it is committed. */
export function initLayerKey(id: string): string {
  return `container-${id}-init-active`;
}

/** What docker's init layer holds: `[path, kind]`, kind `dir`, `file` or a symlink target. */
const INIT_ENTRIES: readonly [string, string][] = [
  ["/dev/pts", "dir"],
  ["/dev/shm", "dir"],
  ["/proc", "dir"],
  ["/sys", "dir"],
  ["/etc/resolv.conf", "file"],
  ["/etc/hosts", "file"],
  ["/etc/hostname", "file"],
  ["/dev/console", "file"],
  ["/etc/mtab", "/proc/mounts"],
];

/**
 * Fill a container's init layer (the tree at `root`, the image's content below it): the
 * mount points runc mounts over and the files it binds `/etc/hosts`-style files onto, each
 * only where the image has nothing at that path (moby's `initlayer.Setup`). A path under a
 * symlink is left alone rather than followed out of the tree.
 */
export function fillInitLayer(root: string): void {
  for (const [p, kind] of INIT_ENTRIES) {
    const parts = p.split("/").filter(Boolean);
    let dir = root;
    let ok = true;
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part);
      const st = lstatOrUndefined(dir);
      if (!st) fs.mkdirSync(dir, { mode: 0o755 });
      else if (!st.isDirectory()) {
        ok = false;
        break;
      }
    }
    const target = path.join(dir, parts[parts.length - 1]!);
    if (!ok || lstatOrUndefined(target)) continue;
    if (kind === "dir") fs.mkdirSync(target, { mode: 0o755 });
    else if (kind === "file") fs.writeFileSync(target, "", { mode: 0o755 });
    else fs.symlinkSync(kind, target);
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** The `/etc/hosts` a container gets: loopback names, and its hostname on 127.0.1.1-style. */
export function hostsFile(hostname: string): string {
  return [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    `127.0.0.1\t${hostname}`,
    "",
  ].join("\n");
}
