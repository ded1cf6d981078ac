import { InvalidArgumentError } from "../errors.js";

/**
 * A parsed, normalized image reference: `docker.io/library/busybox:latest`,
 * `localhost:5000/a/b:t`, `name@sha256:…`, `name:tag@sha256:…`.
 *
 * Grammar and normalization follow docker's `distribution/reference` package:
 * a name without a domain gets `docker.io`; a one-component docker.io name gets
 * `library/`; the first component is a domain when it contains `.` or `:` or is
 * `localhost`; names are lower case; tags are `[\w][\w.-]{0,127}`.
 */
export interface Reference {
  /** Registry host (and port), e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  /** Tag, when the reference has one. */
  tag?: string;
  /** Digest, when the reference pins one. */
  digest?: string;
}

/** The default registry, as docker's. */
export const DEFAULT_DOMAIN = "docker.io";
/** The default tag, as docker's. */
export const DEFAULT_TAG = "latest";

const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";
const NAME_TOTAL_MAX = 255;

const alnum = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const ipv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const host = `(?:${domainName}|${ipv6})`;
const DOMAIN_RE = new RegExp(`^${host}(?::[0-9]+)?$`);
const PATH_RE = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const ID_RE = /^[a-f0-9]{64}$/;

/**
 * Parse and normalize a reference as docker's `ParseNormalizedNamed` does. No default tag
 * is added (see {@link withDefaultTag}).
 * @throws InvalidArgumentError naming the problem: empty, upper case, bad tag, bad digest,
 *   a 64-hex name (which would be ambiguous with an image ID), too long.
 */
export function parseReference(input: string): Reference {
  const bad = (why: string) =>
    new InvalidArgumentError(`invalid reference format: "${input}": ${why}`);
  if (input === "") throw bad("empty reference");
  if (ID_RE.test(input)) {
    throw bad("cannot specify 64-byte hexadecimal strings as a repository name");
  }
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad(`invalid digest "${digest}"`);
    if (digest.startsWith("sha256:") && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
      throw bad(`invalid digest "${digest}": sha256 needs 64 lowercase hex digits`);
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(`invalid tag "${tag}"`);
  }
  if (rest === "") throw bad("missing repository name");
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes(".") ||
      first.includes(":") ||
      first === "localhost" ||
      first !== first.toLowerCase()
    ) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN_RE.test(domain)) throw bad(`invalid domain "${domain}"`);
  if (path !== path.toLowerCase()) throw bad("repository name must be lowercase");
  if (!PATH_RE.test(path)) throw bad(`invalid repository name "${path}"`);
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = OFFICIAL_REPO_PREFIX + path;
  if (`${domain}/${path}`.length > NAME_TOTAL_MAX) {
    throw bad(`repository name must not be more than ${NAME_TOTAL_MAX} characters`);
  }
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The reference with tag `latest` added when it has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** Fully qualified repository name: `docker.io/library/busybox`. */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/**
 * Repository name as docker shows it: `busybox`, `user/app`, `localhost:5000/a/b`. As
 * docker's `familiarizeName`, `library/` goes only from a one-component official name
 * (`docker.io/library/a/b` stays `library/a/b`: `a/b` would name another repository).
 */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && !rest.includes("/") ? rest : ref.path;
}

function suffix(ref: Reference): string {
  return (
    (ref.tag !== undefined ? `:${ref.tag}` : "") +
    (ref.digest !== undefined ? `@${ref.digest}` : "")
  );
}

/** The reference as docker prints it: `busybox:latest`, `localhost:5000/a/b@sha256:…`. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

/** The fully qualified reference: `docker.io/library/busybox:latest`. */
export function referenceString(ref: Reference): string {
  return fullName(ref) + suffix(ref);
}

/**
 * Parse a `REPOSITORY[:TAG]` target (for tag, import, commit): digests are not allowed,
 * and the default tag is added.
 */
export function parseTagTarget(input: string): Reference & { tag: string } {
  const ref = parseReference(input);
  if (ref.digest !== undefined) {
    throw new InvalidArgumentError(
      `invalid reference format: "${input}": a tag target cannot carry a digest`,
    );
  }
  return { ...ref, tag: ref.tag ?? DEFAULT_TAG };
}
