import { createHash } from "node:crypto";
import { InvalidArgumentError } from "../errors.js";

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** True when `s` is a well-formed `sha256:<64 lowercase hex>` digest. */
export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/**
 * Check that `s` is a digest strata can verify (sha256 only, as docker's local store).
 * @throws InvalidArgumentError naming the bad value.
 */
export function assertDigest(s: string, what = "digest"): string {
  if (!isDigest(s)) {
    if (/^[a-z0-9]+([+._-][a-z0-9]+)*:/.test(s) && !s.startsWith("sha256:")) {
      throw new InvalidArgumentError(`${what} "${s}": unsupported digest algorithm`);
    }
    throw new InvalidArgumentError(`${what} "${s}": invalid digest format`);
  }
  return s;
}

/** sha256 digest of a buffer or string, as `sha256:<hex>`. */
export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** The hex part of a digest. */
export function digestHex(digest: string): string {
  return assertDigest(digest).slice("sha256:".length);
}

/**
 * Chain IDs of a layer stack as docker and the OCI spec compute them:
 * `ChainID(L0) = DiffID(L0)`, `ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))`.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256Digest(`${prev} ${d}`));
  }
  return out;
}
