/**
 * What docker's prune commands print: `Deleted Images:` / `Deleted Containers:` lists
 * followed by a blank line, and `Total reclaimed space: 1.98MB`.
 */
import type { RemovedItem } from "@strata/core";
import { humanSize } from "./human-size.js";

/** `Deleted Images:` and one `untagged: …`/`deleted: …` line each, then a blank line. */
export function deletedImagesText(items: readonly RemovedItem[]): string {
  if (items.length === 0) return "";
  const lines = items.map((i) =>
    "untagged" in i ? `untagged: ${i.untagged}` : `deleted: ${i.deleted}`,
  );
  return `Deleted Images:\n${lines.join("\n")}\n\n`;
}

/** `Deleted Containers:` and one full ID per line, then a blank line. */
export function deletedContainersText(ids: readonly string[]): string {
  if (ids.length === 0) return "";
  return `Deleted Containers:\n${ids.join("\n")}\n\n`;
}

/** `Total reclaimed space: X` (go-units' `HumanSize`, four significant digits). */
export function reclaimedText(bytes: number): string {
  return `Total reclaimed space: ${humanSize(bytes, 4)}\n`;
}

/** docker's `image prune` warnings. */
export const IMAGE_PRUNE_WARNING = {
  dangling: "WARNING! This will remove all dangling images.\nAre you sure you want to continue?",
  all: "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?",
} as const;

/** docker's `container prune` warning. */
export const CONTAINER_PRUNE_WARNING =
  "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?";

/** docker's `system prune` confirmation template (a Go template). */
export const SYSTEM_PRUNE_CONFIRMATION = `WARNING! This will remove:
{{- range $_, $warning := .warnings }}
  - {{ $warning }}
{{- end }}
{{if .filters}}
  Items to be pruned will be filtered with:
{{- range $_, $filters := .filters }}
  - {{ $filters }}
{{- end }}
{{end}}
Are you sure you want to continue?`;
