import type { Descriptor, Platform } from "../content/descriptor.js";
import { hostArchitecture, parsePlatform } from "../image/image-importer.js";

/** The platform strata runs images for by default: `linux/<this machine's architecture>`. */
export function defaultPlatform(): Platform {
  const architecture = hostArchitecture();
  return architecture === "arm64"
    ? { os: "linux", architecture, variant: "v8" }
    : { os: "linux", architecture };
}

/** Parse `--platform` (`os[/arch[/variant]]`); undefined gives {@link defaultPlatform}. */
export function requestedPlatform(spec: string | undefined): Platform {
  if (spec === undefined || spec === "") return defaultPlatform();
  const p = parsePlatform(spec.toLowerCase());
  return normalizePlatform(p);
}

/** containerd's normalization: `aarch64` is `arm64` (variant v8 by default), `x86_64` is `amd64`. */
export function normalizePlatform(p: Platform): Platform {
  let { architecture, variant } = p;
  if (architecture === "x86_64" || architecture === "x86-64") architecture = "amd64";
  if (architecture === "aarch64") architecture = "arm64";
  if (architecture === "arm64" && (variant === undefined || variant === "8")) variant = "v8";
  if (architecture === "arm" && variant === undefined) variant = "v7";
  if (architecture === "arm" && /^\d$/.test(variant ?? "")) variant = `v${variant}`;
  return variant ? { os: p.os, architecture, variant } : { os: p.os, architecture };
}

/** `os/arch[/variant]` as docker prints platforms. */
export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** Whether `have` (an index entry's or config's platform) runs as `want`. */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  const h = normalizePlatform(have);
  const w = normalizePlatform(want);
  if (h.os !== w.os || h.architecture !== w.architecture) return false;
  return w.variant === undefined || h.variant === undefined || h.variant === w.variant;
}

/**
 * The manifest of an image index (manifest list) for `want`: the first entry whose
 * platform matches exactly, else the first that matches ignoring the variant. Entries
 * for `unknown/unknown` (attestations) never match.
 */
export function selectManifest(
  manifests: readonly Descriptor[],
  want: Platform,
): Descriptor | undefined {
  const w = normalizePlatform(want);
  const candidates = manifests.filter((m) => platformMatches(m.platform, w));
  return (
    candidates.find((m) => normalizePlatform(m.platform!).variant === w.variant) ?? candidates[0]
  );
}
