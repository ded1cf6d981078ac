import { execFile } from "node:child_process";

/** Result of {@link run}. */
export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Run a system command (no shell) and collect its output.
 * @throws Error carrying the command's stderr when it exits non-zero.
 */
export function run(
  file: string,
  args: readonly string[],
  opts: { input?: string; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024, ...(opts.cwd ? { cwd: opts.cwd } : {}) },
      (err, stdout, stderr) => {
        if (err) {
          const msg = `${file} ${args.join(" ")}: ${String(stderr).trim() || err.message}`;
          reject(Object.assign(new Error(msg, { cause: err }), { stderr: String(stderr) }));
        } else {
          resolve({ stdout: String(stdout), stderr: String(stderr) });
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
