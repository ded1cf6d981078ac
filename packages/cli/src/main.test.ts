import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ExitCode, MultiError, reportError } from "./errors.js";
import { main } from "./main.js";
import { VERSION } from "./version.js";

/** Run `main` with captured output; no test here needs a store. */
async function strata(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough(), env: {} });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

describe("main", () => {
  it("prints the version for -v and --version", async () => {
    for (const flag of ["-v", "--version"]) {
      const r = await strata(flag);
      expect(r).toEqual({ code: 0, stdout: `strata version ${VERSION}\n`, stderr: "" });
    }
  });

  it("prints docker-style general help for -h and for no command", async () => {
    for (const argv of [["-h"], [], ["--root", "/nonexistent"]]) {
      const r = await strata(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Usage:  strata [OPTIONS] COMMAND");
      expect(r.stdout).toMatch(/^ {2}images +List images$/m);
      expect(r.stdout).toMatch(/^ {2}-s, --storage-driver string +/m);
    }
  });

  it("lists a management command's subcommands for `strata image`", async () => {
    const r = await strata("image");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage:  strata image COMMAND");
    const subcommands = [...r.stdout.matchAll(/^ {2}(\S+) {3,}\S/gm)].map((m) => m[1]);
    // Sorted, each under its first `image …` path; other sessions keep adding commands.
    expect(subcommands).toEqual([...subcommands].sort());
    expect(subcommands).toEqual(
      expect.arrayContaining(["history", "import", "inspect", "ls", "prune", "rm", "tag"]),
    );
  });

  it("prints a command's usage with examples for COMMAND --help", async () => {
    const r = await strata("images", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("$ strata images");
    expect(r.stdout).toContain("Examples");
    expect(r.stdout).toContain("--no-trunc");
  });

  it("exits 125 with a hint for an unknown command", async () => {
    const r = await strata("--root", "/nonexistent", "frobnicate");
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("strata: 'frobnicate' is not a strata command.\nSee 'strata --help'.\n");
  });

  it("exits 125 naming the command for a bad flag or missing argument", async () => {
    const flag = await strata("images", "--frob");
    expect(flag.code).toBe(ExitCode.Usage);
    expect(flag.stderr).toBe("unknown flag: --frob\nSee 'strata images --help'.\n");
    const missing = await strata("image", "tag", "onlyone");
    expect(missing).toMatchObject({
      code: ExitCode.Usage,
      stderr: "not enough arguments\nSee 'strata image tag --help'.\n",
    });
    const extra = await strata("images", "a", "b");
    expect(extra).toMatchObject({
      code: ExitCode.Usage,
      stderr: "unexpected argument: b\nSee 'strata images --help'.\n",
    });
  });

  it("exits 125 for an unknown global flag", async () => {
    const r = await strata("--frob", "images");
    expect(r).toEqual({
      code: 125,
      stdout: "",
      stderr: "unknown flag: --frob\nSee 'strata --help'.\n",
    });
  });
});

describe("reportError", () => {
  async function report(err: unknown, debug = false) {
    const stderr = new PassThrough();
    const chunks: Buffer[] = [];
    stderr.on("data", (c: Buffer) => chunks.push(c));
    const code = await reportError(err, { stderr, commandPath: "images", debug });
    return { code, text: Buffer.concat(chunks).toString() };
  }

  it("prints failures as Error: lines with exit 1, one per error of a MultiError", async () => {
    expect(await report(new Error("boom"))).toEqual({ code: 1, text: "Error: boom\n" });
    const multi = new MultiError([new Error("No such object: a"), new Error("No such object: b")]);
    expect(await report(multi)).toEqual({
      code: 1,
      text: "Error: No such object: a\nError: No such object: b\n",
    });
  });

  it("words Node's system errors as Go does", async () => {
    const err = Object.assign(new Error("ENOENT: no such file"), {
      code: "ENOENT",
      syscall: "open",
      path: "missing.tar",
    });
    expect(await report(err)).toEqual({
      code: 1,
      text: "Error: open missing.tar: no such file or directory\n",
    });
  });

  it("adds the stack of an unexpected error only with --debug", async () => {
    const err = new TypeError("x is undefined");
    expect((await report(err)).text).toBe("Error: x is undefined\n");
    expect((await report(err, true)).text).toMatch(
      /^Error: x is undefined\nTypeError: x is undefined\n {4}at /,
    );
  });
});
