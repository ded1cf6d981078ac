import * as fs from "node:fs/promises";
import { Session } from "node:inspector/promises";
import * as path from "node:path";

/** One line of a profile summary: a function and the time spent in it (not its callees). */
export interface HotSpot {
  /** `name file:line`; V8's pseudo-frames keep their own names: `(idle)`, `(garbage collector)`. */
  frame: string;
  selfMs: number;
  /** Share of the profiled time, percent. */
  percent: number;
}

/** What profiling one measurement's operation produced. */
export interface ProfileSummary {
  /** The `.cpuprofile` file (open it in Chrome DevTools or speedscope). */
  file: string;
  /** Profiled wall time, ms. */
  totalMs: number;
  /** Functions with the most self time, most first. */
  top: HotSpot[];
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * V8's CPU profiler over this process (`node:inspector`), for `--profile`: after a
 * measurement, its operation runs once more under the profiler, so the profile says where
 * the time goes without slowing the measured samples down.
 */
export class Profiler {
  private readonly session = new Session();

  constructor(readonly dir: string) {
    this.session.connect();
  }

  /** Run `fn` under the profiler; write `<dir>/<name>.cpuprofile` and summarize it. */
  async profile(name: string, fn: () => Promise<unknown>): Promise<ProfileSummary> {
    await fs.mkdir(this.dir, { recursive: true });
    await this.session.post("Profiler.enable");
    await this.session.post("Profiler.setSamplingInterval", { interval: 200 });
    await this.session.post("Profiler.start");
    let failure: unknown;
    // Starting and stopping the profiler shows up in the profile (the inspector's own
    // `dispatch`): summarize only the samples taken while `fn` ran. V8's profile clock and
    // hrtime are the same monotonic clock, in µs.
    const from = Number(process.hrtime.bigint() / 1000n);
    await fn().catch((err: unknown) => {
      failure = err ?? new Error("profiled operation failed");
    });
    const to = Number(process.hrtime.bigint() / 1000n);
    const { profile } = (await this.session.post("Profiler.stop")) as { profile: CpuProfile };
    await this.session.post("Profiler.disable");
    if (failure !== undefined) throw failure;
    const file = path.join(this.dir, `${name.replace(/[^A-Za-z0-9._-]+/g, "_")}.cpuprofile`);
    await fs.writeFile(file, JSON.stringify(profile));
    return { file, ...summarize(profile, { from, to }) };
  }

  /** Detach from the inspector. */
  close(): void {
    this.session.disconnect();
  }
}

/**
 * Self time per function (by name, file and line), the largest `limit` first, counting only
 * samples taken within `window` (profile clock, µs) when given.
 */
export function summarize(
  profile: CpuProfile,
  window?: { from: number; to: number },
  limit = 8,
): { totalMs: number; top: HotSpot[] } {
  const frames = new Map<number, string>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url ? ` ${url.split("/").pop()}:${lineNumber + 1}` : "";
    frames.set(n.id, `${functionName || "(anonymous)"}${file}`);
  }
  const self = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (window && (at < window.from || at > window.to)) return;
    total += us;
    const frame = frames.get(id) ?? "(unknown)";
    self.set(frame, (self.get(frame) ?? 0) + us);
  });
  const top = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, us]) => ({
      frame,
      selfMs: Math.round(us / 100) / 10,
      percent: total > 0 ? Math.round((1000 * us) / total) / 10 : 0,
    }));
  return { totalMs: Math.round(total / 100) / 10, top };
}
