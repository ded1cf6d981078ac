/**
 * Run `fn` with an AbortSignal that fires on SIGINT or SIGTERM (Ctrl-C), so a pull or push
 * stops cleanly: partial blobs are removed, completed ones kept. The handlers are removed
 * afterwards.
 * @returns `fn`'s result, or `"interrupted"` when a signal aborted it.
 */
export async function interruptible<T>(
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T | "interrupted"> {
  const ctl = new AbortController();
  const onSignal = () => ctl.abort(new Error("interrupted"));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await fn(ctl.signal);
  } catch (err) {
    if (ctl.signal.aborted) return "interrupted";
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Exit code for a command stopped by Ctrl-C (128 + SIGINT). */
export const INTERRUPTED_EXIT = 130;
