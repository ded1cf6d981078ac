// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfiles written here use ${VAR}
/**
 * End-to-end tests of `strata build` (issue 7): the seed's Dockerfile over the local busybox
 * image, multi-stage builds with `COPY --from`, ARG and ENV substitution, `.dockerignore`,
 * the build cache (a rebuild runs no RUN; a changed file re-runs only the steps from its
 * COPY on), ADD of archives and URLs, heredocs, errors (a failing RUN, a syntax error, the
 * 127-layer limit), and built images read by skopeo and umoci with docker's config fields
 * and history. vfs mostly; the seed's build once on overlay.
 */
import { once } from "node:events";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { craftTar } from "./helpers/archives.js";
import {
  busyboxTar,
  importSeedImage,
  itAsRoot,
  removeAllContainers,
} from "./helpers/containers.js";
import { registryCli, startRegistry } from "./helpers/registry.js";
import {
  cleanupTempDirs,
  createStrata,
  makeTempDir,
  mountsUnder,
  type RunResult,
  run,
  type StrataCli,
} from "./helpers/strata.js";

let cli: StrataCli;

/** A context directory holding `files` (path → content). */
async function context(files: Record<string, string>): Promise<string> {
  const dir = await makeTempDir("strata-build-ctx-");
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

async function build(c: StrataCli, ...args: string[]): Promise<RunResult> {
  const r = await c.run(["build", ...args]);
  expect(r.code, `build ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

/** The ID a build printed (`Successfully built <12 hex>`). */
function builtId(r: RunResult): string {
  const m = /^Successfully built ([0-9a-f]{12})$/m.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return m![1]!;
}

async function ok(command: string, ...args: string[]): Promise<RunResult> {
  const r = await run(command, args);
  expect(r.code, `${command} ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r;
}

beforeAll(async () => {
  cli = await createStrata({ driver: "vfs" });
  await cli.ok("import", "-c", 'CMD ["sh"]', await busyboxTar(), "busybox:latest");
});
afterAll(async () => {
  if (cli) await removeAllContainers(cli);
  expect(await mountsUnder(cli.root)).toEqual([]);
  await cleanupTempDirs();
});

describe("strata build", () => {
  itAsRoot("builds the seed's Dockerfile, and run shows HOSTNAME=shiyanlou", async () => {
    const ctx = await context({ Dockerfile: "FROM busybox\nENV HOSTNAME=shiyanlou\n" });
    const r = await build(cli, "-t", "shiyanlou", ctx);
    const id = builtId(r);
    expect(r.stdout).toMatch(/^Sending build context to Docker daemon {2}[\d.]+kB$/m);
    expect(r.stdout).toMatch(/^Step 1\/2 : FROM busybox\n ---> [0-9a-f]{12}\n/m);
    expect(r.stdout).toContain("Step 2/2 : ENV HOSTNAME=shiyanlou\n");
    expect(r.stdout).toMatch(/Successfully tagged shiyanlou:latest\n$/);
    const out = await cli.ok("run", "--rm", "shiyanlou", "sh", "-c", "echo HOSTNAME=$HOSTNAME");
    expect(out).toBe("HOSTNAME=shiyanlou\n");
    const inspect = JSON.parse(await cli.ok("image", "inspect", "shiyanlou"))[0];
    expect(inspect.Id.slice(7, 19)).toBe(id);
    expect(inspect.Config.Env).toContain("HOSTNAME=shiyanlou");
    expect(inspect.Config.Cmd).toEqual(["sh"]);
    // ENV writes no layer: the image has busybox's one layer
    expect(inspect.RootFS.Layers).toHaveLength(1);
    const history = await cli.ok(
      "history",
      "--no-trunc",
      "--format",
      "{{.CreatedBy}}|{{.Size}}",
      "shiyanlou",
    );
    expect(history.split("\n")[0]).toBe("/bin/sh -c #(nop)  ENV HOSTNAME=shiyanlou|0B");
  });

  itAsRoot("builds several stages, COPY --from one, with ARG and ENV substitution", async () => {
    const ctx = await context({
      Dockerfile: [
        "ARG BASE=busybox",
        "FROM ${BASE} AS builder",
        "ARG VERSION=1.0",
        "ENV APP=app-${VERSION} DIR=/opt",
        'RUN mkdir -p $DIR && echo "built $VERSION" > $DIR/artifact && echo "proxy=$http_proxy"',
        "FROM busybox",
        "ARG VERSION",
        "LABEL version=${VERSION:-none} app=${APP:-unset}",
        "COPY --from=builder /opt/artifact /final/",
        "WORKDIR /final",
        'CMD ["cat", "artifact"]',
        "",
      ].join("\n"),
    });
    const r = await build(
      cli,
      "--build-arg",
      "VERSION=2.5",
      "--build-arg",
      "NOPE=1",
      "--build-arg",
      "http_proxy=http://127.0.0.1:3128",
      "-t",
      "multi",
      ctx,
    );
    expect(r.stdout).toContain("[Warning] One or more build-args [NOPE] were not consumed");
    expect(r.stdout).toMatch(
      /Step 4\/10 : RUN .*\n ---> Running in [0-9a-f]{12}\nproxy=http:\/\/127.0.0.1:3128\nRemoving intermediate container [0-9a-f]{12}\n/,
    );
    expect(await cli.ok("run", "--rm", "multi")).toBe("built 2.5\n");
    const cfg = JSON.parse(await cli.ok("image", "inspect", "multi"))[0].Config;
    expect(cfg.Labels).toEqual({ version: "2.5", app: "unset" });
    expect(cfg.WorkingDir).toBe("/final");
    // the RUN's build arg is in its history entry, as docker's `|1 VERSION=2.5 /bin/sh -c …`;
    // a predefined proxy arg is neither there nor in the cache key (no proxy: still cached)
    // `--build-arg VERSION` takes the value from strata's environment
    const r2 = await cli.run(
      ["build", "--build-arg", "VERSION", "--target", "builder", "-t", "stage1", ctx],
      {
        env: { VERSION: "2.5" },
      },
    );
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/Step 4\/4 : RUN .*\n ---> Using cache\n/);
    const hist = await cli.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", "stage1");
    expect(hist.split("\n")[0]).toBe(
      '|1 VERSION=2.5 /bin/sh -c mkdir -p $DIR && echo "built $VERSION" > $DIR/artifact && echo "proxy=$http_proxy"',
    );
    const missing = await cli.run("build", "--target", "nosuch", ctx);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("failed to reach build target nosuch in Dockerfile");
  });

  itAsRoot("applies .dockerignore to COPY and to the context it sends", async () => {
    const ctx = await context({
      Dockerfile:
        "FROM busybox\nCOPY . /ctx/\nCOPY *.txt *.log /glob/\nRUN ls -a /ctx | sort | tr '\\n' ' ' && ls /glob | tr '\\n' ' '\n",
      ".dockerignore": "*.log\nsecret*\n!keep.log\n",
      "app.txt": "app",
      "debug.log": "noise",
      "keep.log": "kept",
      "secret.key": "s3cr3t",
      "sub/inner.log": "deep",
    });
    const r = await build(cli, "--no-cache", ctx);
    expect(r.stdout).toContain(
      "\n. .. .dockerignore Dockerfile app.txt keep.log sub app.txt keep.log Removing",
    );
    const copyExcluded = await context({
      Dockerfile: "FROM busybox\nCOPY secret.key /\n",
      ".dockerignore": "secret.key\n",
      "secret.key": "s3cr3t",
    });
    const bad = await cli.run("build", copyExcluded);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      "file not found in build context or excluded by .dockerignore: stat secret.key: file does not exist",
    );
  });

  itAsRoot(
    "a rebuild runs no RUN; a changed file re-runs only the steps from its COPY on",
    async () => {
      const files = {
        Dockerfile: [
          "FROM busybox",
          "RUN echo first > /first",
          "COPY a.txt /a.txt",
          "RUN cat /a.txt > /copy-of-a",
          "COPY b.txt /b.txt",
          "",
        ].join("\n"),
        "a.txt": "one",
        "b.txt": "bee",
      };
      const ctx = await context(files);
      const first = await build(cli, "-t", "cached", ctx);
      expect(first.stdout.match(/ ---> Running in /g)).toHaveLength(2);
      const again = await build(cli, "-t", "cached", ctx);
      expect(again.stdout).not.toContain("Running in");
      expect(again.stdout.match(/ ---> Using cache\n/g)).toHaveLength(4);
      expect(builtId(again)).toBe(builtId(first));

      await writeFile(join(ctx, "a.txt"), "two");
      const changed = await build(cli, "-t", "cached", ctx);
      const steps = changed.stdout.split(/^Step /m).slice(1);
      expect(steps[1]).toContain("Using cache"); // RUN echo first
      expect(steps[2]).not.toContain("Using cache"); // COPY a.txt
      expect(steps[3]).toContain("Running in"); // RUN cat /a.txt
      expect(steps[4]).not.toContain("Using cache"); // COPY b.txt, on a new parent
      expect(await cli.ok("run", "--rm", "cached", "cat", "/copy-of-a")).toBe("two");

      const noCache = await build(cli, "--no-cache", "-t", "cached", ctx);
      expect(noCache.stdout).not.toContain("Using cache");
      expect(noCache.stdout.match(/ ---> Running in /g)).toHaveLength(2);

      // image prune removes the older builds' dangling images (and their cache entries);
      // the tagged image's chain stays, and so does its cache
      const pruned = await cli.ok("image", "prune", "-f");
      expect(pruned).toContain("deleted: sha256:");
      const afterPrune = await build(cli, "-t", "cached", ctx);
      expect(afterPrune.stdout).not.toContain("Running in");
      expect(builtId(afterPrune)).toBe(builtId(noCache));

      // rmi of the built image takes its untagged parents (the intermediate images) along,
      // as docker's does; the tagged base stays
      const chain = (await cli.ok("history", "--no-trunc", "--format", "{{.ID}}", "cached"))
        .split("\n")
        .filter((id) => id.startsWith("sha256:"));
      const base = (await cli.ok("images", "-q", "--no-trunc", "busybox")).trim();
      expect(chain).toHaveLength(5); // busybox and the 4 steps' images, the last one tagged
      await cli.ok("rmi", "cached");
      const left = (await cli.ok("images", "-a", "-q", "--no-trunc")).split("\n");
      expect(chain.filter((id) => left.includes(id))).toEqual([base]);
    },
  );

  itAsRoot(
    "ADD unpacks local archives and downloads URLs; COPY takes heredocs, --chown and --chmod",
    async () => {
      let server: Server | undefined;
      try {
        server = createServer((req, res) => {
          if (req.url === "/files/remote.txt") {
            res.writeHead(200, { "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT" });
            res.end("from the web\n");
          } else {
            res.writeHead(404);
            res.end();
          }
        });
        server.listen(0, "127.0.0.1");
        await once(server, "listening");
        const port = (server.address() as AddressInfo).port;
        const ctx = await context({ "tree/x/y.txt": "inside", "plain.txt": "plain" });
        for (const [name, flag] of [
          ["tree.tar", "-cf"],
          ["tree.tgz", "-czf"],
          ["tree.tar.bz2", "-cjf"],
          ["tree.tar.xz", "-cJf"],
        ] as const) {
          await ok("tar", "-C", join(ctx, "tree"), flag, join(ctx, name), "x");
        }
        await writeFile(
          join(ctx, "Dockerfile"),
          [
            "FROM busybox",
            "ADD tree.tar /plain/",
            "ADD tree.tgz tree.tar.bz2 tree.tar.xz /packed/",
            `ADD http://127.0.0.1:${port}/files/remote.txt /web/`,
            "COPY --chown=12:34 --chmod=640 plain.txt /owned.txt",
            "COPY <<EOF /greeting",
            'say "hi" to ${NAME:-world}',
            "EOF",
            "RUN <<EOF",
            "set -e",
            "cat /plain/x/y.txt /packed/x/y.txt /web/remote.txt /greeting",
            "stat -c '%u:%g %a' /owned.txt /web/remote.txt",
            "EOF",
            "",
          ].join("\n"),
        );
        const r = await build(cli, "--no-cache", ctx);
        expect(r.stdout).toContain(
          '\ninsideinsidefrom the web\nsay "hi" to world\n12:34 640\n0:0 600\n',
        );
        const missing = await context({
          Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/nothing /x\n`,
        });
        const bad = await cli.run("build", missing);
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain("404");
      } finally {
        server?.close();
      }
    },
  );

  itAsRoot(
    "fails as docker does: a RUN's exit code, a syntax error's line, the 127-layer limit",
    async () => {
      const failing = await context({ Dockerfile: "FROM busybox\nRUN echo before\nRUN exit 3\n" });
      const r = await cli.run("build", failing);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await cli.ok("ps", "-a", "-q")).toBe(""); // the failed step's container is gone

      // ADD of a hostile archive: a symlink out of the image, then a file through it
      const victim = await makeTempDir("strata-build-victim-");
      const hostile = await context({ Dockerfile: "FROM busybox\nADD evil.tar /x/\n" });
      await writeFile(
        join(hostile, "evil.tar"),
        await craftTar([
          { name: "link", type: "symlink", linkname: victim },
          { name: "link/pwned", body: "gotcha" },
        ]),
      );
      const h = await cli.run("build", hostile);
      expect(h.code).toBe(1);
      expect(h.stderr).toMatch(/^Error: .*link.*symlink/m);
      expect(await readdir(victim)).toEqual([]);

      const syntax = await context({ Dockerfile: "FROM busybox\nENV A=b\nFRMO x\n" });
      const s = await cli.run("build", syntax);
      expect(s.code).toBe(1);
      expect(s.stderr).toContain("Dockerfile parse error on line 3: unknown instruction: FRMO");

      const lines = ["FROM busybox"];
      for (let i = 0; i < 127; i++) lines.push(`RUN echo ${i}`);
      const tooDeep = await context({ Dockerfile: `${lines.join("\n")}\n` });
      const t = await cli.run("build", tooDeep);
      expect(t.code).toBe(1);
      expect(t.stderr).toContain("more than the maximum of 127");
      expect(t.stdout).not.toContain("Running in"); // refused before any step ran
    },
  );

  itAsRoot(
    "reads a tar context or the Dockerfile from stdin, and -q prints only the image ID",
    async () => {
      const ctx = await context({ Dockerfile: "FROM busybox\nCOPY f /f\n", f: "tarred" });
      const tarFile = join(await makeTempDir(), "ctx.tar");
      await ok("tar", "-C", ctx, "-cf", tarFile, ".");
      const iid = join(await makeTempDir(), "iid");
      const r = await cli.run(["build", "-q", "--iidfile", iid, "-t", "fromstdin", "-"], {
        input: await readFile(tarFile),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      expect(await readFile(iid, "utf8")).toBe(r.stdout.trim());
      expect(await cli.ok("run", "--rm", "fromstdin", "cat", "/f")).toBe("tarred");
      // `-f -`: the Dockerfile on stdin, the context a directory
      const f = await cli.run(["build", "-q", "-f", "-", ctx], {
        input: "FROM busybox\nCOPY f /from-stdin-dockerfile\n",
      });
      expect(f.code, f.stderr).toBe(0);
      const id = f.stdout.trim();
      expect(await cli.ok("run", "--rm", id, "cat", "/from-stdin-dockerfile")).toBe("tarred");
      // several sources need a directory destination ending in /
      const many = await cli.run(["build", "-f", "-", ctx], {
        input: "FROM busybox\nCOPY f Dockerfile /dest\n",
      });
      expect(many.code).toBe(1);
      expect(many.stderr).toContain(
        "When using COPY with more than one source file, the destination must be a directory and end with a /",
      );
    },
  );

  itAsRoot(
    "builds images that skopeo and umoci read, with docker's config fields and history",
    async () => {
      const ctx = await context({
        Dockerfile: [
          "FROM busybox",
          "ENV HOSTNAME=shiyanlou",
          "RUN echo ran > /ran",
          "COPY hello.txt /hello.txt",
          "USER 1000",
          "EXPOSE 8080",
          "VOLUME /data",
          "STOPSIGNAL SIGINT",
          'ENTRYPOINT ["/bin/sh", "-c"]',
          'CMD ["cat /hello.txt"]',
          "HEALTHCHECK --interval=5m CMD true",
          "ONBUILD RUN echo child",
          "",
        ].join("\n"),
        "hello.txt": "hi",
      });
      const id = builtId(await build(cli, "--label", "org.example=yes", "-t", "interop", ctx));
      const tmp = await makeTempDir();
      const archive = join(tmp, "interop.tar");
      await cli.ok("save", "-o", archive, "interop");
      const cfg = JSON.parse(
        (await ok("skopeo", "inspect", "--config", "--raw", `docker-archive:${archive}`)).stdout,
      );
      expect(cfg.config).toMatchObject({
        Env: ["HOSTNAME=shiyanlou"],
        User: "1000",
        ExposedPorts: { "8080/tcp": {} },
        Volumes: { "/data": {} },
        StopSignal: "SIGINT",
        Entrypoint: ["/bin/sh", "-c"],
        Cmd: ["cat /hello.txt"],
        Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 300_000_000_000 },
        OnBuild: ["RUN echo child"],
      });
      expect(cfg.rootfs.diff_ids).toHaveLength(3);
      const createdBy = cfg.history.map((h: { created_by?: string }) => h.created_by ?? "");
      expect(createdBy).toContain("/bin/sh -c #(nop)  ENV HOSTNAME=shiyanlou");
      expect(createdBy).toContain("/bin/sh -c echo ran > /ran");
      expect(createdBy.find((c: string) => c.includes("COPY"))).toMatch(
        /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/hello.txt $/,
      );
      const env = cfg.history.find((h: { created_by?: string }) => h.created_by?.includes("ENV"));
      expect(env.empty_layer).toBe(true);
      expect(cfg.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer)).toHaveLength(3);
      expect(cfg.container_config.Cmd).toEqual([
        "/bin/sh",
        "-c",
        "#(nop) ",
        "LABEL org.example=yes",
      ]);

      const oci = join(tmp, "oci");
      await ok("skopeo", "copy", `docker-archive:${archive}`, `oci:${oci}:interop`);
      const bundle = join(tmp, "bundle");
      await ok("umoci", "unpack", "--image", `${oci}:interop`, bundle);
      expect(
        (await ok("cat", join(bundle, "rootfs/ran"), join(bundle, "rootfs/hello.txt"))).stdout,
      ).toBe("ran\nhi");
      const raw = JSON.parse(
        (await ok("skopeo", "inspect", "--raw", `docker-archive:${archive}`)).stdout,
      );
      expect(raw.config.digest.slice(7, 19)).toBe(id);

      // an image built FROM it runs its trigger first
      const child = await context({ Dockerfile: "FROM interop\nUSER 0\n" });
      const r = await build(cli, child);
      expect(r.stdout).toMatch(
        /# Executing 1 build trigger\n ---> Running in [0-9a-f]{12}\nchild\n/,
      );
    },
  );

  itAsRoot("builds the seed's Dockerfile on overlay too", async () => {
    const ov = await createStrata({ driver: "overlay" });
    try {
      await ov.ok("import", "-c", 'CMD ["sh"]', await busyboxTar(), "busybox:latest");
      const ctx = await context({
        Dockerfile: "FROM busybox\nENV HOSTNAME=shiyanlou\nRUN echo layered > /layered\n",
      });
      await build(ov, "-t", "shiyanlou", ctx);
      expect(
        await ov.ok("run", "--rm", "shiyanlou", "sh", "-c", "echo $HOSTNAME; cat /layered"),
      ).toBe("shiyanlou\nlayered\n");
      const again = await build(ov, "-t", "shiyanlou", ctx);
      expect(again.stdout).not.toContain("Running in");
    } finally {
      await removeAllContainers(ov);
      expect(await mountsUnder(ov.root)).toEqual([]);
    }
  });

  itAsRoot("pulls a FROM image the store lacks from its registry, as docker does", async () => {
    const registry = await startRegistry(await makeTempDir());
    const fresh = await createStrata({ driver: "vfs" });
    try {
      const reg = registryCli(fresh, await makeTempDir());
      const image = `${registry.address}/library/seed:latest`;
      await importSeedImage(fresh, image);
      await reg.ok(["push", "-q", image]);
      await reg.ok(["rmi", image]);
      const ctx = await context({ Dockerfile: `FROM ${image}\nRUN echo $HOSTNAME > /h\n` });
      const r = await reg.run(["build", "-t", "pulled", ctx]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Status: Downloaded newer image for ${image}\n`);
      expect(await fresh.ok("run", "--rm", "pulled", "cat", "/h")).toBe("shiyanlou\n");
    } finally {
      await removeAllContainers(fresh);
      await registry.stop();
    }
  });
});
