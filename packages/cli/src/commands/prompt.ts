import type { Readable, Writable } from "node:stream";

/**
 * docker's `prompt.Confirm`: print `message [y/N] ` and read one line; true only for `y`
 * or `Y`. A closed or empty stdin means no.
 */
export async function confirm(
  stdin: Readable,
  stdout: Writable,
  message: string,
): Promise<boolean> {
  stdout.write(`${message} [y/N] `);
  const answer = await readLine(stdin);
  return answer?.trim().toLowerCase() === "y";
}

/** Read one line from `stream` (without its newline); undefined at end of input. */
function readLine(stream: Readable): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const done = (line: string | undefined) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onError);
      stream.pause();
      resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) done(buf.slice(0, nl));
    };
    const onEnd = () => done(buf === "" ? undefined : buf);
    const onError = (err: Error) => {
      stream.off("data", onData);
      reject(err);
    };
    if (stream.readableEnded || stream.destroyed) {
      resolve(undefined);
      return;
    }
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("close", onEnd);
    stream.on("error", onError);
    stream.resume();
  });
}
