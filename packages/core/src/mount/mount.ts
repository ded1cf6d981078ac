/**
 * A mount described as data, as a driver returns it; core's mount manager performs it.
 *
 * Types strata understands out of the box: `bind` (source is a directory; options may hold
 * `ro`, `rbind`) and `overlay` (kernel overlayfs; options carry `lowerdir=`, `upperdir=`,
 * `workdir=`). Any other type needs a {@link MountHandler} registered for it.
 */
export interface Mount {
  /** Filesystem type: `bind`, `overlay`, or a custom type such as `fuse.aufs`. */
  type: string;
  /** Source: a directory for binds, a label for overlay and FUSE mounts. */
  source: string;
  /** Where it goes inside a container's rootfs; unset for the rootfs itself. */
  target?: string;
  /** Mount options, as `mount -o` takes them. */
  options: string[];
}

/**
 * Performs mounts of one custom type (containerd's `mount.Handler`); drivers that need one
 * (the FUSE driver) export it and register it under `Tokens.MountHandler`.
 */
export interface MountHandler {
  /** The mount type this handler serves, e.g. `fuse.aufs`. */
  readonly type: string;
  /** Mount `m` on the existing directory `target`. */
  mount(m: Mount, target: string): Promise<void>;
  /** Unmount what this handler mounted at `target`. */
  unmount(target: string): Promise<void>;
}

/** True when the mount is read-only (carries the `ro` option). */
export function isReadOnly(m: Mount): boolean {
  return m.options.includes("ro");
}
