/**
 * The aufs FUSE helper: `node aufs-server.js <json>` mounts one union and serves it until
 * the mount goes away. {@link AufsMountHandler} starts it detached, one process per mount,
 * because a process must never touch a FUSE mount it serves (its event loop is the one
 * that would have to answer), and because libfuse's loop needs a process that does
 * nothing else: it spawns no children (they would inherit /dev/fuse and keep the mount
 * alive) and imports nothing from strata but the union itself.
 *
 * Protocol: the JSON argument is {@link AufsServerArgs}; once the kernel has initialised
 * the mount, the helper writes `ready <connection>\n` on file descriptor 3 (or
 * `error <message>\n`) and closes it. It exits when its FUSE connection is gone (the
 * mount was unmounted and no open file holds it) and, on SIGTERM, after a lazy unmount.
 */
import * as fs from "node:fs";
import { loadAufsNative } from "./native-addon.js";
import { aufsFuseClass } from "./union/aufs-fuse.js";
import { fuseNativeOps } from "./union/fuse-native-ops.js";
import { UnionOperations } from "./union/union-ops.js";
import { type Branch, UnionTree } from "./union/union-tree.js";
import { UnionWriter } from "./union/union-writer.js";

/** What the handler tells the helper. */
export interface AufsServerArgs {
  target: string;
  branches: Branch[];
  workdir?: string;
  /** libfuse options, as `-o` takes them. */
  fuseOptions: string[];
}

const READY_FD = 3;
const WATCH_MS = 100;

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} aufs[${process.pid}]: ${msg}\n`);
}

function answer(line: string): void {
  try {
    fs.writeSync(READY_FD, `${line}\n`);
    fs.closeSync(READY_FD);
  } catch {
    // Nobody is waiting (started by hand): the log has it.
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** The FUSE connection number of the aufs mount at `target` (its device minor), if any. */
function connectionOf(target: string): number | undefined {
  const info = fs.readFileSync("/proc/self/mountinfo", "utf8");
  let found: number | undefined;
  for (const line of info.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const fields = pre.split(" ");
    if (unescapeMountPath(fields[4] ?? "") !== target || !post.startsWith("fuse.aufs ")) continue;
    found = Number((fields[2] ?? "").split(":")[1]); // the last one mounted there is ours
  }
  return found;
}

function main(): void {
  const args = JSON.parse(process.argv[2] ?? "") as AufsServerArgs;
  process.umask(0);
  process.title = "strata-aufs";
  const native = loadAufsNative(); // before fuse-native: see aufsFuseClass
  const AufsFuse = aufsFuseClass();
  const tree = new UnionTree(args.branches);
  const writer = tree.rw && args.workdir ? new UnionWriter(tree, native, args.workdir) : undefined;
  const ops = new UnionOperations(tree, writer, native, log);
  const fuse = new AufsFuse(args.target, fuseNativeOps(ops), {
    timeout: false,
    aufsOptions: args.fuseOptions,
  });

  // The connection outlives a lazy unmount while files are open: watch it in fusectl when
  // that is mounted, else watch the mount table.
  let connection: number | undefined;
  let fusectl = false;
  const watch = () => {
    const gone = fusectl
      ? !fs.existsSync(`/sys/fs/fuse/connections/${connection}`)
      : connectionOf(args.target) === undefined;
    if (gone) process.exit(0);
  };
  fuse.mount((err) => {
    if (err) {
      log(`mount failed: ${err.message}`);
      answer(`error ${err.message}`);
      process.exit(1);
    }
    if (!native.interposed()) {
      const msg = "the native helper did not take over fuse_new (file data and owners need it)";
      log(msg);
      answer(`error ${msg}`);
      native.umount(args.target, true);
      process.exit(1);
    }
    connection = connectionOf(args.target);
    fusectl = connection !== undefined && fs.existsSync(`/sys/fs/fuse/connections/${connection}`);
    answer(`ready ${connection ?? ""}`);
    setInterval(watch, WATCH_MS);
  });
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(sig, () => {
      native.umount(args.target, true);
      process.exit(0);
    });
  }
  process.on("uncaughtException", (err) => log(`uncaught: ${err.stack ?? err.message}`));
}

main();
