/**
 * Ask for one line on a terminal: `prompt` goes to `out`; with `echo` false (a password)
 * the terminal does not show what is typed.
 */
export async function promptLine(
  stdin: NodeJS.ReadStream,
  out: NodeJS.WritableStream,
  prompt: string,
  echo: boolean,
): Promise<string> {
  out.write(prompt);
  const raw = !echo && typeof stdin.setRawMode === "function";
  if (raw) stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let line = "";
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") {
            done();
            resolve(line);
            return;
          }
          if (ch === "\u0003") {
            done();
            reject(new Error("interrupted"));
            return;
          }
          if (ch === "\u007f" || ch === "\b") line = line.slice(0, -1);
          else line += ch;
        }
      };
      const onEnd = () => {
        done();
        resolve(line);
      };
      const done = () => {
        stdin.off("data", onData);
        stdin.off("end", onEnd);
      };
      stdin.on("data", onData);
      stdin.on("end", onEnd);
    });
  } finally {
    if (raw) {
      stdin.setRawMode(false);
      out.write("\n");
    }
    stdin.pause();
  }
}
