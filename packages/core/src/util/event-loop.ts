/**
 * A counter that lets the event loop run every `every` units of synchronous work.
 *
 * strata's tree walks use synchronous `lstat`/`read` calls on purpose: on small files they
 * are several times faster than libuv's thread-pool round trips. Calling the returned
 * function after each unit keeps timers, I/O callbacks and progress output flowing.
 * (FUSE mounts are served by a helper process, never by this one, so blocking calls on
 * them cannot deadlock; see DESIGN.md.)
 */
export function breather(every = 256): (units?: number) => Promise<void> | undefined {
  let count = 0;
  return (units = 1) => {
    count += units;
    if (count < every) return undefined;
    count = 0;
    return new Promise((resolve) => setImmediate(resolve));
  };
}
