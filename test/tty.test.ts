/**
 * End-to-end tests of interactive terminals (issue #4): `strata run -t -i` and
 * `strata exec -t -i` inside a real terminal (a tmux pane on a private tmux server), typing
 * into the container's shell with `send-keys` and reading the screen with `capture-pane`.
 */
import { afterAll, beforeAll, describe, expect } from "vitest";
import {
  CONTAINER_DRIVERS,
  eventually,
  importSeedImage,
  itAsRoot,
  removeAllContainers,
} from "./helpers/containers.js";
import { cleanupTempDirs, createStrata, run, type StrataCli, strataBin } from "./helpers/strata.js";

/** A private tmux server, so the tests never touch a user's sessions. */
const socket = `strata-tty-${process.pid}`;
const tmux = (...args: string[]) => run("tmux", ["-L", socket, ...args], { timeoutMs: 30_000 });

afterAll(async () => {
  await tmux("kill-server");
  await cleanupTempDirs();
});

/** Start `command` (a shell line) in a new detached 120x30 tmux session named `name`. */
async function openPane(name: string, command: string): Promise<void> {
  const r = await tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "30", command);
  if (r.code !== 0) throw new Error(`tmux new-session: ${r.stderr}`);
}

/** What the pane shows now. */
async function screen(name: string): Promise<string> {
  return (await tmux("capture-pane", "-p", "-t", name)).stdout;
}

/** Wait until the pane shows a line matching `re`. */
async function waitFor(name: string, re: RegExp): Promise<void> {
  try {
    await eventually(async () => re.test(await screen(name)), 60_000);
  } catch {
    throw new Error(`pane ${name} never showed ${re}; it shows:\n${await screen(name)}`);
  }
}

/** Type a line into the pane. */
async function type(name: string, line: string): Promise<void> {
  await tmux("send-keys", "-t", name, "-l", line);
  await tmux("send-keys", "-t", name, "Enter");
}

/** The shell line that runs strata in the pane, then reports its exit code and lingers. */
function strataLine(cli: StrataCli, args: string[]): string {
  const quoted = [process.execPath, strataBin, ...cli.globalArgs, ...args].map(
    (a) => `'${a.replace(/'/g, "'\\''")}'`,
  );
  return `${quoted.join(" ")}; echo STRATA_EXIT=$?; sleep 600`;
}

describe.each(CONTAINER_DRIVERS)("interactive terminals on %s", (driver) => {
  let cli: StrataCli;

  beforeAll(async () => {
    cli = await createStrata({ driver });
    await importSeedImage(cli, "seed");
  });
  afterAll(() => removeAllContainers(cli));

  itAsRoot("run -t -i: a shell on a real terminal; its exit code is strata's", async () => {
    const pane = `run-${driver}`;
    await openPane(pane, strataLine(cli, ["run", "-t", "-i", "--name", "tty1", "seed", "/bin/sh"]));
    try {
      await waitFor(pane, /^\/ #\s*$/m);
      await type(pane, "echo $((6*7))");
      await waitFor(pane, /^42$/m);
      await type(pane, "echo $HOSTNAME; tty; echo $TERM");
      await waitFor(pane, /^shiyanlou\n\/dev\/pts\/\d+\nxterm$/m);
      await type(pane, "exit 5");
      await waitFor(pane, /^STRATA_EXIT=5$/m);
    } finally {
      await tmux("kill-session", "-t", pane);
    }
    expect(await cli.ok("ps", "-a")).toMatch(/Exited \(5\) .+ tty1\n/);
    // As docker's, the terminal session is in the container's log.
    expect(await cli.ok("logs", "tty1")).toMatch(/^42\r?$/m);
    await cli.ok("rm", "tty1");
  });

  itAsRoot("exec -t -i: a second shell in a running container", async () => {
    await cli.ok("run", "-d", "--name", "bg", "seed", "sleep", "600");
    const pane = `exec-${driver}`;
    await openPane(pane, strataLine(cli, ["exec", "-t", "-i", "bg", "/bin/sh"]));
    try {
      await waitFor(pane, /^\/ #\s*$/m);
      await type(pane, "ps -o comm | grep -c sleep; tty");
      await waitFor(pane, /^1\n\/dev\/pts\/\d+$/m);
      await type(pane, "exit 7");
      await waitFor(pane, /^STRATA_EXIT=7$/m);
    } finally {
      await tmux("kill-session", "-t", pane);
      await cli.ok("rm", "-f", "bg");
    }
  });
});
