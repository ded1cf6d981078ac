/**
 * End-to-end tests of the container commands (issue #4) on vfs and overlay: the seed's
 * flow (an image with `ENV HOSTNAME=shiyanlou`, `run`, `diff`, `commit`, `history`,
 * `rmi`), exit codes, run options, and the background lifecycle (`run -d`, `logs`,
 * `exec`, `stop`, `kill`, `ps`, `rm`, `start`). Containers really run under runc.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect } from "vitest";
import {
  CONTAINER_DRIVERS,
  eventually,
  importSeedImage,
  itAsRoot,
  mountsBelow,
  removeAllContainers,
} from "./helpers/containers.js";
import { cleanupTempDirs, createStrata, makeTempDir, type StrataCli } from "./helpers/strata.js";

afterAll(cleanupTempDirs);

const ID = /^[a-f0-9]{64}\n$/;

describe.each(CONTAINER_DRIVERS)("containers on %s", (driver) => {
  let cli: StrataCli;

  beforeAll(async () => {
    cli = await createStrata({ driver });
    await importSeedImage(cli, "seed");
  });
  afterAll(() => removeAllContainers(cli));

  itAsRoot("runs the seed image: the image's ENV HOSTNAME wins over the default", async () => {
    expect(await cli.ok("run", "--rm", "seed", "sh", "-c", "echo $HOSTNAME")).toBe("shiyanlou\n");
    // The real hostname is the short ID, as docker's.
    const out = await cli.ok("run", "--rm", "seed", "hostname");
    expect(out).toMatch(/^[a-f0-9]{12}\n$/);
  });

  itAsRoot("seed flow: run, diff, commit, run the new image, history", async () => {
    expect(await cli.ok("run", "--name", "updateimage", "seed", "mkdir", "/a", "/b", "/c")).toBe(
      "",
    );
    expect(await cli.ok("diff", "updateimage")).toBe("A /a\nA /b\nA /c\n");
    const id = await cli.ok(
      "commit",
      "-m",
      "three dirs",
      "-a",
      "Seed Author",
      "updateimage",
      "newimage",
    );
    expect(id).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    const ls = await cli.ok("run", "--rm", "newimage", "ls", "/");
    expect(ls.split("\n")).toEqual(expect.arrayContaining(["a", "b", "c", "bin", "etc"]));
    const history = await cli.ok("history", "newimage");
    const lines = history.split("\n");
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(lines[1]).toContain(id.slice(7, 19));
    expect(lines[1]).toMatch(/mkdir \/a \/b \/c\s+0B\s+three dirs$/);
    expect(lines[2]).toMatch(/Imported from -$/);
    const inspect = JSON.parse(await cli.ok("image", "inspect", "newimage"))[0];
    expect(inspect.Author).toBe("Seed Author");
    expect(inspect.Comment).toBe("three dirs");
    expect(inspect.RootFS.Layers).toHaveLength(2);
    // As docker's commit: the container's command becomes the image's.
    expect(inspect.Config.Cmd).toEqual(["mkdir", "/a", "/b", "/c"]);
    expect(inspect.Config.Env).toContain("HOSTNAME=shiyanlou");
  });

  itAsRoot(
    "diff reports changes and deletions docker's way, never runc's mount points",
    async () => {
      await cli.ok(
        "run",
        "--name",
        "changer",
        "seed",
        "sh",
        "-c",
        "echo x >> /etc/passwd && rm /bin/ls && mkdir -p /root/sub && touch /root/sub/f",
      );
      expect(await cli.ok("diff", "changer")).toBe(
        "C /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nC /root\nA /root/sub\nA /root/sub/f\n",
      );
      await cli.ok("rm", "changer");
    },
  );

  itAsRoot("rmi refuses an image a container uses; -f untags it", async () => {
    await importSeedImage(cli, "inuse");
    await cli.ok("tag", "inuse", "inuse:two");
    await cli.ok("create", "--name", "user1", "inuse:two", "true");
    const r = await cli.run("rmi", "inuse:two");
    // inuse:latest still names it, so the tag goes; the last name is refused.
    expect(r.code).toBe(0);
    const refused = await cli.run("rmi", "inuse");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^Error: conflict: unable to remove repository reference "inuse" \(must force\) - container [a-f0-9]{12} is using its referenced image [a-f0-9]{12}\n$/,
    );
    expect((await cli.run("rmi", "-f", "inuse")).code).toBe(0);
    // docker keeps the image itself while the container needs it.
    expect(await cli.ok("start", "-a", "user1")).toBe("");
    await cli.ok("rm", "user1");
  });

  itAsRoot("the container's exit code becomes strata's; 125, 126, 127 as docker's", async () => {
    expect((await cli.run("run", "--rm", "seed", "sh", "-c", "exit 3")).code).toBe(3);
    const notFound = await cli.run("run", "--rm", "seed", "nosuchcmd");
    expect(notFound.code).toBe(127);
    expect(notFound.stderr).toContain('exec: "nosuchcmd": executable file not found in $PATH');
    expect((await cli.run("run", "--rm", "seed", "/etc/passwd")).code).toBe(126);
    // As docker: a missing image is pulled first; with --pull never it is an error at once.
    const noImage = await cli.run("run", "--rm", "--pull", "never", "nosuchimage", "true");
    expect(noImage.code).toBe(125);
    expect(noImage.stderr).toContain("No such image: nosuchimage:latest");
    const unpullable = await cli.run("run", "--rm", "nosuchimage", "true");
    expect(unpullable.code).toBe(125);
    expect(unpullable.stderr).toContain("Unable to find image 'nosuchimage:latest' locally");
    expect((await cli.run("run", "--rm", "--network", "bridge", "seed", "true")).code).toBe(125);
  });

  itAsRoot(
    "honours -e, --env-file, -w, -u, --entrypoint, --hostname, -i, -v and --network",
    async () => {
      const dir = await makeTempDir();
      await writeFile(join(dir, "env"), "# comment\nFROM_FILE=1\nB=file\n");
      const env = await cli.run(
        [
          "run",
          "--rm",
          "--env-file",
          join(dir, "env"),
          "-e",
          "B=flag",
          "-e",
          "HOST_VAR",
          "seed",
        ].concat(["sh", "-c", "echo $FROM_FILE $B $HOST_VAR"]),
        { env: { HOST_VAR: "from-host" } },
      );
      expect(env.stdout).toBe("1 flag from-host\n");
      expect(
        await cli.ok(
          "run",
          "--rm",
          "-w",
          "/tmp/w",
          "-u",
          "nobody",
          "--hostname",
          "box",
          "seed",
          "sh",
          "-c",
          "pwd; id -u; hostname",
        ),
      ).toBe("/tmp/w\n65534\nbox\n");
      expect(await cli.ok("run", "--rm", "--entrypoint", "echo", "seed", "a", "b")).toBe("a b\n");
      const piped = await cli.run(["run", "--rm", "-i", "seed", "cat"], {
        input: "through stdin\n",
      });
      expect(piped.stdout).toBe("through stdin\n");
      await mkdir(join(dir, "vol"));
      await writeFile(join(dir, "vol", "f"), "host data\n");
      expect(
        await cli.ok(
          "run",
          "--rm",
          "-v",
          `${join(dir, "vol")}:/vol`,
          "seed",
          "sh",
          "-c",
          "cat /vol/f; echo new > /vol/g",
        ),
      ).toBe("host data\n");
      expect(await readFile(join(dir, "vol", "g"), "utf8")).toBe("new\n");
      const ro = await cli.run(
        "run",
        "--rm",
        "-v",
        `${join(dir, "vol")}:/vol:ro`,
        "seed",
        "touch",
        "/vol/h",
      );
      expect(ro.code).toBe(1);
      expect(ro.stderr).toContain("Read-only file system");
      // none: loopback only; host: the host's interfaces.
      expect(await cli.ok("run", "--rm", "seed", "ls", "/sys/class/net")).toBe("lo\n");
      const host = await cli.ok("run", "--rm", "--network", "host", "seed", "ls", "/sys/class/net");
      expect(host.split("\n").length).toBeGreaterThan(2);
    },
  );

  itAsRoot("nothing stays mounted after a foreground container exits", async () => {
    await cli.ok("run", "--name", "fg", "seed", "true");
    expect(await mountsBelow(cli.root)).toEqual([]);
    await cli.ok("rm", "fg");
  });

  itAsRoot("run -d, logs, exec, commit -p, stop, ps -a, rm; mounted while it runs", async () => {
    const script = "echo started; echo oops >&2; while true; do sleep 1; done";
    const id = await cli.ok("run", "-d", "--name", "web", "seed", "sh", "-c", script);
    expect(id).toMatch(ID);
    const rootfs = join(cli.root, "containers", id.trim(), "rootfs");
    expect(await mountsBelow(cli.root)).toContain(rootfs);
    const ps = await cli.ok("ps");
    expect(ps.split("\n")[0]).toMatch(
      /^CONTAINER ID\s{3}IMAGE\s{3,}COMMAND\s{3,}CREATED\s{3,}STATUS\s{3,}PORTS\s{3,}NAMES$/,
    );
    expect(ps).toMatch(
      new RegExp(
        `^${id.slice(0, 12)}   seed      "sh -c echo started;…"   .+ ago\\s+Up .+\\s+web$`,
        "m",
      ),
    );
    await eventually(async () => (await cli.ok("logs", "web")).includes("started"));
    const logs = await cli.run("logs", "web");
    expect(logs.stdout).toBe("started\n");
    expect(logs.stderr).toBe("oops\n");
    expect((await cli.run("exec", "web", "sh", "-c", "echo $HOSTNAME; exit 4")).stdout).toBe(
      "shiyanlou\n",
    );
    expect((await cli.run("exec", "web", "sh", "-c", "exit 4")).code).toBe(4);
    await cli.ok("exec", "web", "touch", "/made-by-exec");
    expect(await cli.ok("diff", "web")).toBe("A /made-by-exec\n");
    expect(await cli.ok("commit", "web", "webimage")).toMatch(/^sha256:/);
    expect((await cli.ok("ps")).split("\n")[1]).toMatch(/Up .+ web$/); // resumed after commit
    const state = "{{.Name}} {{.State.Status}} {{.State.Running}} {{.State.ExitCode}}";
    expect(await cli.ok("inspect", "-f", state, "web")).toBe("/web running true 0\n");
    expect(await cli.ok("stop", "-t", "1", "web")).toBe("web\n");
    expect(await cli.ok("container", "inspect", "-f", state, "web")).toBe(
      "/web exited false 137\n",
    );
    expect(await mountsBelow(cli.root)).toEqual([]);
    expect(await cli.ok("ps")).not.toContain("web");
    // sh as PID 1 ignores SIGTERM: killed after the timeout, as with docker (137).
    expect(await cli.ok("ps", "-a")).toMatch(/Exited \(137\) .+ ago\s+web\n/);
    expect((await cli.run("exec", "web", "true")).code).toBe(1);
    expect(await cli.ok("run", "--rm", "webimage", "ls", "/made-by-exec")).toBe("/made-by-exec\n");
    expect(await cli.ok("rm", "web")).toBe("web\n");
    expect(await cli.ok("ps", "-a", "-q")).not.toContain(id.slice(0, 12));
  });

  itAsRoot("create, start, kill, rm -f, and docker's refusals", async () => {
    const id = (await cli.ok("create", "--name", "later", "seed", "sleep", "60")).trim();
    expect(await cli.ok("ps", "-a", "--no-trunc")).toMatch(
      new RegExp(`^${id}   seed      "sleep 60"   .+ ago\\s+Created\\s+later$`, "m"),
    );
    expect(await cli.ok("start", "later")).toBe("later\n");
    expect(await cli.ok("ps", "-q")).toContain(id.slice(0, 12));
    const busy = await cli.run("rm", "later");
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(
      'Error: cannot remove container "/later": container is running: stop the container before removing or force remove\n',
    );
    const taken = await cli.run("create", "--name", "later", "seed", "true");
    expect(taken.code).toBe(125);
    expect(taken.stderr).toContain('Conflict. The container name "/later" is already in use');
    expect(await cli.ok("kill", "-s", "TERM", id.slice(0, 8))).toBe(`${id.slice(0, 8)}\n`);
    expect(await cli.ok("kill", "later")).toBe("later\n");
    expect(await cli.ok("ps", "-a")).toMatch(/Exited \(137\) .+ later\n/);
    const dead = await cli.run("kill", "later");
    expect(dead.stderr).toBe(
      `Error: cannot kill container: later: container ${id} is not running\n`,
    );
    await cli.ok("start", "later");
    expect(await cli.ok("rm", "-f", "later")).toBe("later\n");
    expect(await mountsBelow(cli.root)).toEqual([]);
    const gone = await cli.run("rm", "later");
    expect(gone.stderr).toBe("Error: No such container: later\n");
    expect(gone.code).toBe(1);
  });

  itAsRoot("pause, unpause, restart and wait", async () => {
    const script = 'trap "exit 9" TERM; while true; do sleep 1; done';
    await cli.ok("run", "-d", "--name", "pz", "seed", "sh", "-c", script);
    expect(await cli.ok("pause", "pz")).toBe("pz\n");
    expect(await cli.ok("ps")).toMatch(/Up .+ \(Paused\)\s+pz\n/);
    expect((await cli.run("pause", "pz")).stderr).toMatch(/is already paused\n$/);
    expect(await cli.ok("unpause", "pz")).toBe("pz\n");
    expect((await cli.run("unpause", "pz")).stderr).toMatch(/is not paused\n$/);
    expect(await cli.ok("restart", "-t", "5", "pz")).toBe("pz\n");
    expect(await cli.ok("ps")).toMatch(/Up .+\s+pz\n/);
    const waiting = cli.run("wait", "pz");
    await cli.ok("stop", "pz");
    expect((await waiting).stdout).toBe("9\n"); // its TERM trap's exit code
    expect(await cli.ok("wait", "pz")).toBe("9\n");
    await cli.ok("rm", "pz");
  });

  itAsRoot(
    "cp copies out of and into containers, stopped or running, by docker's rules",
    async () => {
      const dir = await makeTempDir();
      await mkdir(join(dir, "site", "sub"), { recursive: true });
      await writeFile(join(dir, "site", "sub", "index.html"), "hello\n");
      await cli.ok("create", "--name", "cpc", "seed", "sleep", "600");
      // Out: a file into a directory keeps its name; a directory to a new name is renamed.
      const out = await cli.run("cp", "cpc:/etc/passwd", `${dir}/`);
      expect(out.stderr).toBe(""); // no terminal: quiet, as docker
      expect(await readFile(join(dir, "passwd"), "utf8")).toContain("root:");
      await cli.ok("cp", "cpc:/etc", join(dir, "etccopy"));
      expect(await readFile(join(dir, "etccopy", "passwd"), "utf8")).toContain("root:");
      // In: into an existing directory, and to a new path (which takes the copy's name).
      await cli.ok("cp", join(dir, "site"), "cpc:/tmp");
      await cli.ok("cp", join(dir, "site"), "cpc:/www");
      expect(await cli.ok("diff", "cpc")).toBe(
        [
          "C /tmp",
          "A /tmp/site",
          "A /tmp/site/sub",
          "A /tmp/site/sub/index.html",
          "A /www",
          "A /www/sub",
          "A /www/sub/index.html",
          "",
        ].join("\n"),
      );
      // Running: through its mount, seen by the container at once.
      await cli.ok("start", "cpc");
      await writeFile(join(dir, "live.txt"), "live\n");
      await cli.ok("cp", "-q", join(dir, "live.txt"), "cpc:/");
      expect(await cli.ok("exec", "cpc", "cat", "/live.txt", "/www/sub/index.html")).toBe(
        "live\nhello\n",
      );
      const missing = await cli.run("cp", "cpc:/nope", dir);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe("Error: Could not find the file /nope in container cpc\n");
      await cli.ok("rm", "-f", "cpc");
    },
  );

  itAsRoot("run -d --rm removes the container when it ends", async () => {
    await cli.ok("run", "-d", "--rm", "--name", "brief", "seed", "sh", "-c", "sleep 0.3");
    await eventually(async () => !(await cli.ok("ps", "-a")).includes("brief"));
    expect(await mountsBelow(cli.root)).toEqual([]);
  });
});
