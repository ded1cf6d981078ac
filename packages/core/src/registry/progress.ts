/**
 * One progress message of a pull or push, in docker's vocabulary: a per-item status
 * (`id` is the blob's short digest) such as `Pulling fs layer`, `Waiting`, `Downloading`
 * (with byte counts), `Verifying Checksum`, `Download complete`, `Pull complete`,
 * `Already exists`, `Preparing`, `Pushing`, `Pushed`, `Layer already exists`,
 * `Mounted from <repo>`; or a line without an id (`latest: Pulling from library/busybox`).
 */
export interface ProgressEvent {
  /** 12 hex digits of the blob's digest; absent for a line of its own. */
  id?: string;
  status: string;
  /** Bytes done, for `Downloading`/`Pushing`. */
  current?: number;
  /** Bytes in all, for `Downloading`/`Pushing`. */
  total?: number;
}

/** Receives {@link ProgressEvent}s; the CLI renders them as docker does. */
export type ProgressListener = (event: ProgressEvent) => void;

/** The id docker shows for a blob: the first 12 hex digits of its digest. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

/**
 * Run `fn` over `items` with at most `limit` running at once; every started call is
 * awaited before the returned promise settles (so nothing keeps writing after a failure),
 * and the first failure is rethrown.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.err;
  return results;
}
