import type { DiskUsageReport } from "@strata/core";
import { Command, Option } from "clipanion";
import { CONTAINER_HEADER, containerContext } from "../../format/container-context.js";
import {
  BUILD_CACHE_HEADER,
  DEFAULT_DISK_USAGE_TABLE,
  DISK_USAGE_HEADER,
  diskUsageRows,
  VERBOSE_TABLES,
  VOLUME_HEADER,
} from "../../format/disk-usage-context.js";
import { humanSize } from "../../format/human-size.js";
import { truncateId } from "../../format/ids.js";
import { IMAGE_HEADER, imageContext } from "../../format/image-context.js";
import { splitTag } from "../../format/image-rows.js";
import { goStructOf } from "../../format/struct.js";
import { parseFormat, renderFormat, TemplateFormatError } from "../../format/template-format.js";
import { StrataCommand } from "../strata-command.js";

/** `strata system df [-v] [--format …]`: disk space used by images and containers. */
export class SystemDfCommand extends StrataCommand {
  static override paths = [["system", "df"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Show strata disk usage",
    details: `
      One row each for images, containers, local volumes and build cache: how many, how
      many in use, their size and what a prune could reclaim. Image sizes count each layer
      once however many images share it. \`-v\` lists every image (with shared and unique
      sizes) and container. \`--format\` takes a Go template with \`.Type .TotalCount
      .Active .Size .Reclaimable\` (with \`-v\`: \`.Images .Containers .Volumes .BuildCache\`).
    `,
    examples: [
      ["Show disk usage", "$0 system df"],
      ["Show usage per image and container", "$0 system df -v"],
      [
        "Print the images' total size",
        "$0 system df --format '{{if eq .Type \"Images\"}}{{.Size}}{{end}}'",
      ],
    ],
  });

  verbose = Option.Boolean("-v,--verbose", false, {
    description: "Show detailed information on space usage",
  });
  format = Option.String("--format", {
    description:
      "Format output using a custom template ('table', 'table TEMPLATE', 'json', or a Go template)",
  });

  async execute(): Promise<number> {
    const service = await this.service((core) => core.DiskUsageService);
    const du = await service.usage();
    const source = this.format ?? "table";
    if (!this.verbose) {
      const format = source === "table" ? DEFAULT_DISK_USAGE_TABLE : source;
      this.print(
        await renderFormat({ format, rows: diskUsageRows(du), header: DISK_USAGE_HEADER }),
      );
      return 0;
    }
    const lists = await this.verboseLists(du, source.startsWith("table"));
    if (source !== "table") {
      const tmpl = await parseFormat(source);
      try {
        this.print(tmpl.execute(goStructOf("*formatter.diskUsageContext", lists)));
      } catch (err) {
        throw new TemplateFormatError((err as Error).message, { cause: err });
      }
      return 0;
    }
    const images = await renderFormat({
      format: VERBOSE_TABLES.images,
      rows: lists.Images,
      header: IMAGE_HEADER,
    });
    const containers = await renderFormat({
      format: VERBOSE_TABLES.containers,
      rows: lists.Containers,
      header: CONTAINER_HEADER,
    });
    const volumes = await renderFormat({
      format: VERBOSE_TABLES.volumes,
      rows: [],
      header: VOLUME_HEADER,
    });
    const cache = await renderFormat({
      format: VERBOSE_TABLES.buildCache,
      rows: [],
      header: BUILD_CACHE_HEADER,
    });
    this.print(
      `Images space usage:\n\n${images}\nContainers space usage:\n\n${containers}\n` +
        `Local Volumes space usage:\n\n${volumes}\nBuild cache usage: ${humanSize(du.buildCacheSize, 4)}\n\n${cache}`,
    );
    return 0;
  }

  /** docker's `diskUsageContext`: an image row per image (first tag only), a row per container. */
  private async verboseLists(du: DiskUsageReport, trunc: boolean) {
    const images = await this.service((core) => core.ImageStore);
    const Images = du.images.map((u) => {
      const first = u.image.repoTags[0];
      const { name, tag } = first ? splitTag(first) : { name: "<none>", tag: "<none>" };
      const row = { image: u.image, repository: name, tag: tag ?? "<none>", digest: "<none>" };
      return imageContext(row, u, { trunc });
    });
    const Containers = [];
    for (const c of du.containers) {
      const rec = c.container;
      const named = await images.resolve(rec.config.Image ?? "").catch(() => undefined);
      const image = named?.id === rec.imageId ? (rec.config.Image ?? "") : truncateId(rec.imageId);
      Containers.push(
        containerContext(
          { rec, paused: false, image },
          { trunc, ...(c.sizeRw !== undefined ? { sizeRw: c.sizeRw } : {}) },
        ),
      );
    }
    return { Images, Containers, Volumes: [] as unknown[], BuildCache: [] as unknown[] };
  }
}
