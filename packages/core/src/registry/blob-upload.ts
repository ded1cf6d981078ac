import { createReadStream } from "node:fs";
import { Transform } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { isErrorCode, UnavailableError } from "../errors.js";
import { registryError } from "./error-response.js";
import { header, type RemoteRepository } from "./remote-repository.js";

/** Options of {@link uploadBlob}. */
export interface UploadOptions {
  /** Called with the bytes sent so far. */
  onProgress?: (sent: number) => void;
  /** Called before a retry, with the attempt number and the delay in seconds. */
  onRetry?: (attempt: number, seconds: number, err: unknown) => void;
  signal?: AbortSignal;
  /** An upload session already opened (the `Location` of a mount that fell back to upload). */
  location?: string;
  /** Attempts before giving up; default 5, as docker. */
  maxAttempts?: number;
}

/** What a cross-repository mount attempt gave. */
export type MountResult = { mounted: true } | { mounted: false; location?: string };

/**
 * Ask the registry to mount `digest` from repository `from` (same registry) into `repo`
 * (`POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<from>`): `201` means mounted; a
 * `202` opens an ordinary upload session instead, whose location is returned.
 */
export async function mountBlob(
  repo: RemoteRepository,
  digest: string,
  from: string,
  signal?: AbortSignal,
): Promise<MountResult> {
  const res = await repo.request(
    "POST",
    `blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    { scopes: [`repository:${from}:pull`], ...(signal ? { signal } : {}) },
  );
  await res.body.dump();
  if (res.status === 201) return { mounted: true };
  if (res.status === 202) {
    const location = header(res, "location");
    return { mounted: false, ...(location ? { location: new URL(location, res.url).href } : {}) };
  }
  return { mounted: false };
}

/**
 * Upload a stored blob to `repo` in one request (`POST` an upload session, then `PUT` the
 * bytes with `?digest=`), streaming it from the content store. A failed attempt that may
 * succeed later (dropped connection, 5xx) is retried from scratch with a new session.
 * @throws the registry's error (`blob upload invalid`, `digest invalid`, `denied`, …).
 */
export async function uploadBlob(
  repo: RemoteRepository,
  store: ContentStore,
  desc: Descriptor,
  opts: UploadOptions = {},
): Promise<void> {
  const maxAttempts = opts.maxAttempts ?? 5;
  let location = opts.location;
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      await uploadOnce(repo, store, desc, location ?? (await startUpload(repo, opts.signal)), opts);
      return;
    } catch (err) {
      opts.signal?.throwIfAborted();
      const transient =
        isErrorCode(err, "UNAVAILABLE") ||
        String((err as { code?: string }).code).startsWith("UND_ERR");
      if (!transient || attempt >= maxAttempts) throw err;
      location = undefined;
      const delay = 1000 * 2 ** (attempt - 1);
      opts.onRetry?.(attempt, Math.round(delay / 1000), err);
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}

async function startUpload(repo: RemoteRepository, signal?: AbortSignal): Promise<string> {
  const res = await repo.request("POST", "blobs/uploads/", signal ? { signal } : {});
  const text = await res.body.text().catch(() => "");
  const location = header(res, "location");
  if (res.status !== 202 || !location) throw registryError(res.status, text, "blob upload");
  return new URL(location, res.url).href;
}

async function uploadOnce(
  repo: RemoteRepository,
  store: ContentStore,
  desc: Descriptor,
  location: string,
  opts: UploadOptions,
): Promise<void> {
  const url = new URL(location);
  url.searchParams.set("digest", desc.digest);
  await store.info(desc.digest);
  let sent = 0;
  const body = () => {
    sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        opts.onProgress?.(sent);
        cb(null, chunk);
      },
    });
    return createReadStream(store.blobPath(desc.digest), { highWaterMark: 1024 * 1024 }).pipe(
      counter,
    );
  };
  const res = await repo.request("PUT", url.href, {
    headers: { "content-type": "application/octet-stream", "content-length": String(desc.size) },
    body,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await res.body.text().catch(() => "");
  if (res.status !== 201 && res.status !== 204) {
    const err = registryError(res.status, text, `blob upload ${desc.digest}`);
    throw res.status >= 500 ? new UnavailableError(err.message, { cause: err }) : err;
  }
}
