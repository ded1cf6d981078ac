import type { Mount } from "../mount/mount.js";
import type { ContainerLayout } from "./container-layout.js";
import type { ContainerRecord } from "./container-types.js";

/** What the runtime adds to a record for `inspect`: runc's view of the process. */
export interface RuntimeFacts {
  /** runc's status (`running`, `paused`, …), undefined when runc does not know it. */
  status?: string;
  /** Host PID of the container's init process, 0 when it does not run. */
  pid: number;
  /** The writable snapshot's mounts, as the driver describes them. */
  mounts: Mount[];
}

/** Go's zero time, which docker prints for "never". */
const ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * A container in docker's `container inspect` JSON shape (the fields strata has, in
 * docker's order): state, paths of its files, host config, graph driver data (overlay's
 * directories, or the directory of a plain snapshot), bind mounts and config.
 */
export function containerInspect(
  rec: ContainerRecord,
  layout: ContainerLayout,
  rt: RuntimeFacts,
): Record<string, unknown> {
  const [path = "", ...args] = [...(rec.config.Entrypoint ?? []), ...(rec.config.Cmd ?? [])];
  const { state } = rec;
  const running = state.status === "running";
  const bundle = layout.bundle(rec.id);
  return {
    Id: rec.id,
    Created: rec.created.toISOString(),
    Path: path,
    Args: args,
    State: {
      Status: running && rt.status === "paused" ? "paused" : state.status,
      Running: running,
      Paused: running && rt.status === "paused",
      Restarting: false,
      OOMKilled: false,
      Dead: state.status === "dead",
      Pid: running ? rt.pid : 0,
      ExitCode: state.exitCode ?? 0,
      Error: state.error ?? "",
      StartedAt: state.startedAt ?? ZERO_TIME,
      FinishedAt: state.finishedAt ?? ZERO_TIME,
    },
    Image: rec.imageId,
    ResolvConfPath: `${bundle}/resolv.conf`,
    HostnamePath: `${bundle}/hostname`,
    HostsPath: `${bundle}/hosts`,
    LogPath: layout.logFile(rec.id),
    Name: `/${rec.name}`,
    RestartCount: 0,
    Driver: rec.driver,
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: null,
    HostConfig: {
      Binds: rec.hostConfig.binds.length > 0 ? rec.hostConfig.binds : null,
      LogConfig: { Type: "json-file", Config: {} },
      NetworkMode: rec.hostConfig.networkMode,
      AutoRemove: rec.hostConfig.autoRemove,
      Runtime: "runc",
    },
    GraphDriver: { Data: graphDriverData(rt.mounts, layout.rootfs(rec.id)), Name: rec.driver },
    Mounts: rec.hostConfig.binds.map((b) => {
      const [source = "", destination = "", mode = ""] = b.split(":");
      return {
        Type: "bind",
        Source: source,
        Destination: destination,
        Mode: mode,
        RW: !mode.split(",").includes("ro"),
        Propagation: "rprivate",
      };
    }),
    Config: rec.config,
  };
}

/** docker's `GraphDriver.Data`: overlay's directories, else the snapshot's own directory. */
function graphDriverData(mounts: Mount[], merged: string): Record<string, string> | null {
  const m = mounts[0];
  if (!m) return null;
  if (m.type === "overlay") {
    const opt = (k: string) => m.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
    const data: Record<string, string> = { MergedDir: merged };
    const lower = opt("lowerdir");
    if (lower) data.LowerDir = lower;
    const upper = opt("upperdir");
    if (upper) data.UpperDir = upper;
    const work = opt("workdir");
    if (work) data.WorkDir = work;
    return data;
  }
  return { Dir: m.source };
}
