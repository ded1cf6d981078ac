import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { ContentStore } from "../content/content-store.js";
import type { Differ } from "../diff/differ.js";
import type { Mount } from "../mount/mount.js";
import { MountManager } from "../mount/mount-manager.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { privilegeGap } from "./privileges.js";
import { captureTree, type Tree } from "./tree.js";

/**
 * The test runner's test function, as the kit needs it: vitest's, jest's or mocha's `it`
 * fits. The kit registers every case through it and skipped cases through `it.skip`.
 */
export interface TestRunner {
  (name: string, fn: () => Promise<void>, timeout?: number): void;
  skip(name: string, fn: () => Promise<void>): void;
}

/** What the kit hands a {@link HarnessFactory} for each test: fresh, empty directories. */
export interface HarnessContext {
  /** The driver's root: an empty directory, removed after the test. */
  root: string;
  /** A store root for the content store (and anything else store-wide). */
  storeRoot: string;
  /** A content store on `storeRoot`, for building a differ. */
  contentStore: ContentStore;
  /** A mount manager with the built-in types; add the driver's handler to it if any. */
  mountManager: MountManager;
}

/**
 * What a driver's factory returns: the snapshotter under test and, for the differ suite,
 * the differ to test. `mountManager` and `contentStore` default to the context's.
 */
export interface Harness {
  snapshotter: Snapshotter;
  /** Needed by {@link differSuite}: the driver's native differ, or core's naive one. */
  differ?: Differ;
  /** The mount manager the kit mounts through (default: the context's). */
  mountManager?: MountManager;
  /** The content store the differ writes to (default: the context's). */
  contentStore?: ContentStore;
  /** Called after the test (even when it failed): close the snapshotter, stop helpers. */
  cleanup?: () => Promise<void>;
}

/**
 * Builds the driver under test on a fresh root (containerd's `SnapshotterFunc`). The kit
 * calls it once per test, and a second time with the same context in the case that
 * checks that two instances share one root.
 */
export type HarnessFactory = (ctx: HarnessContext) => Promise<Harness>;

/** Options of {@link snapshotterSuite} and {@link differSuite}. */
export interface SuiteOptions {
  /**
   * The driver's snapshots can only be made as root (every case then needs root, not only
   * the mounting ones). Default false.
   */
  requiresRoot?: boolean;
  /** Where per-test directories go; default `os.tmpdir()`. Must support xattrs. */
  tmpDir?: string;
  /**
   * Fail instead of skipping cases that lack privileges. Default: `process.env.CI === "true"`.
   */
  ci?: boolean;
  /** Length of the deep-chain case's chain; default 128. */
  chainLength?: number;
  /** Timeout per case in ms, passed to the runner; default: the runner's. */
  timeoutMs?: number;
}

/** What a case's body gets: the driver under test and helpers bound to its temp dirs. */
export interface CaseEnv {
  sn: Snapshotter;
  mm: MountManager;
  cs: ContentStore;
  differ: Differ | undefined;
  ctx: HarnessContext;
  options: SuiteOptions;
  /** A scratch directory outside the driver's root. */
  work: string;
  /** Call the factory again on the same root (a second process, as far as the driver knows). */
  reopen(): Promise<Harness>;
  /** Mount `mounts` on a fresh directory, run `fn` on it, and always unmount. */
  mounted<T>(mounts: Mount[], fn: (dir: string) => Promise<T>): Promise<T>;
  /** `prepare(name + "-active", parent)`, mount, run `fn`, unmount, `commit(name, …)`. */
  layer(
    name: string,
    parent: string | undefined,
    fn: (dir: string) => Promise<void>,
  ): Promise<void>;
  /** The tree of committed `name`, read through a temporary view that is removed after. */
  viewTree(name: string): Promise<Tree>;
  /** A fresh empty directory under `work`. */
  scratch(prefix: string): Promise<string>;
}

/** One conformance case: a name, why it needs privileges (if it does), and a body. */
export interface SuiteCase {
  name: string;
  /** Why the case needs root with mount rights; unset when it needs neither. */
  privileged?: string;
  /** The case's own timeout, overriding {@link SuiteOptions.timeoutMs}. */
  timeoutMs?: number;
  run(env: CaseEnv): Promise<void>;
}

/**
 * Register `cases` with the runner. A case whose privileges are missing is registered as
 * skipped with the reason in its name, or, under CI, as a failing test that says why.
 */
export function registerCases(
  it: TestRunner,
  factory: HarnessFactory,
  options: SuiteOptions,
  cases: readonly SuiteCase[],
): void {
  const ci = options.ci ?? process.env.CI === "true";
  for (const c of cases) {
    const why = c.privileged ?? (options.requiresRoot ? "the driver requires root" : undefined);
    const gap = why === undefined ? undefined : privilegeGap();
    if (gap !== undefined) {
      const reason = `${gap}; needed because ${why}`;
      if (ci) {
        it(c.name, async () => {
          throw new Error(`cannot run: ${reason} (CI=true forbids skipping)`);
        });
      } else {
        it.skip(`${c.name} [skipped: ${reason}]`, async () => {});
      }
      continue;
    }
    const timeout = c.timeoutMs ?? options.timeoutMs;
    it(c.name, () => runCase(factory, options, c), timeout);
  }
}

async function runCase(
  factory: HarnessFactory,
  options: SuiteOptions,
  c: SuiteCase,
): Promise<void> {
  const base = await fs.mkdtemp(path.join(options.tmpDir ?? os.tmpdir(), "strata-suite-"));
  const dirs = { root: `${base}/root`, storeRoot: `${base}/store`, work: `${base}/work` };
  for (const d of Object.values(dirs)) await fs.mkdir(d, { mode: 0o755 });
  const ctx: HarnessContext = {
    root: dirs.root,
    storeRoot: dirs.storeRoot,
    contentStore: new ContentStore(dirs.storeRoot),
    mountManager: new MountManager(),
  };
  const harnesses: Harness[] = [];
  const open = async () => {
    const h = await factory(ctx);
    harnesses.push(h);
    return h;
  };
  let failure: unknown;
  try {
    const h = await open();
    await c.run(makeEnv(h, ctx, options, dirs.work, open));
  } catch (err) {
    failure = err;
  }
  const mm = harnesses[0]?.mountManager ?? ctx.mountManager;
  const problems: unknown[] = [];
  await unmountUnder(mm, base).catch((e) => problems.push(e));
  for (const h of harnesses.reverse()) await h.cleanup?.().catch((e) => problems.push(e));
  await unmountUnder(mm, base).catch((e) => problems.push(e));
  if ((await mountsUnder(base)).length === 0) {
    await fs.rm(base, { recursive: true, force: true }).catch((e) => problems.push(e));
  } else {
    problems.push(new Error(`mounts left under ${base}; not removing it`));
  }
  if (failure !== undefined) throw failure;
  if (problems.length > 0) throw problems[0];
}

function makeEnv(
  h: Harness,
  ctx: HarnessContext,
  options: SuiteOptions,
  work: string,
  reopen: () => Promise<Harness>,
): CaseEnv {
  const sn = h.snapshotter;
  const mm = h.mountManager ?? ctx.mountManager;
  const scratch = (prefix: string) => fs.mkdtemp(path.join(work, `${prefix}-`));
  const mounted = async <T>(mounts: Mount[], fn: (dir: string) => Promise<T>): Promise<T> => {
    const dir = await scratch("mnt");
    try {
      await mm.mount(mounts, dir);
      try {
        return await fn(dir);
      } finally {
        if (mounts.length > 0) await mm.unmount(dir);
      }
    } finally {
      await fs.rmdir(dir).catch(() => {});
    }
  };
  let views = 0;
  return {
    sn,
    mm,
    cs: h.contentStore ?? ctx.contentStore,
    differ: h.differ,
    ctx,
    options,
    work,
    reopen,
    mounted,
    scratch,
    async layer(name, parent, fn) {
      const key = `${name}-active`;
      await mounted(await sn.prepare(key, parent), fn);
      await sn.commit(name, key);
    },
    async viewTree(name) {
      const key = `view-${++views}-of-${name}`;
      const tree = await mounted(await sn.view(key, name), (dir) => captureTree(dir));
      await sn.remove(key);
      return tree;
    },
  };
}

/** Mount points under `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const prefix = `${path.resolve(dir)}/`;
  return info
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .map((p) =>
      p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))),
    )
    .filter((p) => p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** Unmount everything a failed case left mounted under `dir`. */
async function unmountUnder(mm: MountManager, dir: string): Promise<void> {
  // Re-read after each unmount: a lazy unmount of a parent also removes its submounts.
  for (let i = 0; i < 1000; i++) {
    const [deepest] = await mountsUnder(dir);
    if (deepest === undefined) return;
    await mm.unmount(deepest);
  }
}
