import { setTimeout as sleep } from "node:timers/promises";
import type { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { isErrorCode, UnavailableError } from "../errors.js";
import { registryError } from "./error-response.js";
import { header, type RemoteRepository } from "./remote-repository.js";

/** Options of {@link downloadBlob}. */
export interface DownloadOptions {
  /** Called with the number of bytes received so far (including resumed ones). */
  onProgress?: (received: number) => void;
  /** Called before a retry, with the attempt number and the delay in seconds. */
  onRetry?: (attempt: number, seconds: number, err: unknown) => void;
  signal?: AbortSignal;
  /** Consecutive failed attempts (without progress) before giving up; default 5, as docker. */
  maxAttempts?: number;
  /** Delay before the first retry in ms, doubled each time; default 1000. */
  retryDelayMs?: number;
}

/** Bytes gathered before one write to the temporary file. */
const WRITE_BATCH = 1024 * 1024;

/**
 * Download a blob straight into the content store, verified against `desc` (digest and
 * size) before it becomes visible. A connection that drops mid-blob is retried with a
 * `Range` request from the bytes already written (all of them stay hashed in the writer),
 * so a flaky link does not restart a large layer; a registry that ignores `Range` (200
 * instead of 206) has its first bytes skipped. On failure or abort (`signal`) the
 * temporary file is removed and nothing becomes visible.
 *
 * @throws InvalidArgumentError when the bytes do not match the descriptor.
 * @throws UnavailableError when the registry stays unreachable after the retries.
 */
export async function downloadBlob(
  repo: RemoteRepository,
  store: ContentStore,
  desc: Descriptor,
  opts: DownloadOptions = {},
): Promise<void> {
  const writer = await store.writer({ digest: desc.digest, size: desc.size });
  const maxAttempts = opts.maxAttempts ?? 5;
  let failures = 0;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const before = writer.size;
      try {
        await fetchRange(repo, desc, writer, opts);
        if (writer.size === desc.size) break;
        throw new UnavailableError(
          `blob ${desc.digest}: connection closed after ${writer.size} of ${desc.size} bytes`,
        );
      } catch (err) {
        opts.signal?.throwIfAborted();
        if (!isTransient(err)) throw err;
        failures = writer.size > before ? 1 : failures + 1;
        if (failures >= maxAttempts) throw err;
        const delay = (opts.retryDelayMs ?? 1000) * 2 ** (failures - 1);
        opts.onRetry?.(failures, Math.round(delay / 1000), err);
        await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
      }
    }
    await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

interface Sink {
  readonly size: number;
  writev(chunks: readonly Uint8Array[]): Promise<void>;
}

/** One GET of the blob from `writer.size` on, appended to the writer. */
async function fetchRange(
  repo: RemoteRepository,
  desc: Descriptor,
  writer: Sink,
  opts: DownloadOptions,
): Promise<void> {
  const from = writer.size;
  const res = await repo.request("GET", `blobs/${desc.digest}`, {
    ...(from > 0 ? { headers: { range: `bytes=${from}-` } } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  let skip = 0;
  if (res.status === 200) {
    skip = from; // the registry ignored the range: drop what we already have
  } else if (res.status === 206) {
    const start = Number(/bytes (\d+)-/.exec(header(res, "content-range") ?? "")?.[1]);
    if (start !== from) {
      await res.body.dump();
      throw new UnavailableError(
        `blob ${desc.digest}: registry resumed at byte ${start}, not ${from}`,
      );
    }
  } else {
    const text = await res.body.text().catch(() => "");
    throw registryError(res.status, text, `blob ${desc.digest}`);
  }
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunks = pending.splice(0);
    pendingBytes = 0;
    await writer.writev(chunks);
    opts.onProgress?.(writer.size);
  };
  try {
    for await (let chunk of res.body as AsyncIterable<Buffer>) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        skip -= n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) continue;
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BATCH) await flush();
    }
  } finally {
    // Keep every byte that arrived before a drop: the retry resumes after them.
    await flush();
  }
}

/** Network-level failures worth a retry (dropped connections, timeouts, 5xx). */
function isTransient(err: unknown): boolean {
  if (isErrorCode(err, "UNAVAILABLE")) return true;
  const e = err as { code?: string; name?: string };
  return (
    typeof e?.code === "string" &&
    (e.code.startsWith("UND_ERR") ||
      ["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNREFUSED"].includes(e.code))
  );
}
