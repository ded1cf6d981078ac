import { Command, Option } from "clipanion";
import { IMAGE_HEADER, imageContext, imageFormat } from "../../format/image-context.js";
import { selectImages } from "../../format/image-filters.js";
import { imageRows } from "../../format/image-rows.js";
import { renderFormat } from "../../format/template-format.js";
import { parseFilterFlag } from "../filter-flag.js";
import { StrataCommand } from "../strata-command.js";

/** `strata images` / `strata image ls`: list images as docker does. */
export class ImageListCommand extends StrataCommand {
  static override paths = [["images"], ["image", "ls"], ["image", "list"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "List images",
    details: `
      Lists the images in the store, newest first, one row per tag. Untagged images show
      as \`<none>\`; intermediate images (untagged parents of other images) are hidden
      unless \`-a\` is given. \`REPOSITORY[:TAG]\` keeps only matching references (shell
      patterns such as \`busy*\` work).

      Filters (\`-f key=value\`, repeatable): \`dangling=true|false\`, \`label=KEY\` or
      \`label=KEY=VALUE\`, \`before=IMAGE\`, \`since=IMAGE\`, \`until=TIME\` (a timestamp or
      a duration such as \`24h\`), \`reference=PATTERN\`.

      \`--format\` takes a Go template with the fields \`.ID .Repository .Tag .Digest
      .CreatedSince .CreatedAt .Size .SharedSize .UniqueSize .VirtualSize .Containers\`;
      \`table TEMPLATE\` prints columns with headers, \`json\` one JSON object per line.
    `,
    examples: [
      ["List images", "$0 images"],
      ["List only image IDs", "$0 images -q"],
      ["List the tags of one repository, with digests", "$0 images --digests busybox"],
      ["List dangling images", "$0 images -f dangling=true"],
      ["List images made before busybox:latest", "$0 images --filter before=busybox:latest"],
      [
        "Print repository and tag as columns",
        "$0 images --format 'table {{.Repository}}\\t{{.Tag}}'",
      ],
    ],
  });

  all = Option.Boolean("-a,--all", false, {
    description: "Show all images (default hides intermediate images)",
  });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Only show image IDs" });
  noTrunc = Option.Boolean("--no-trunc", false, { description: "Don't truncate output" });
  digests = Option.Boolean("--digests", false, { description: "Show digests" });
  filter = Option.Array("-f,--filter", [], {
    description: "Filter output based on conditions provided",
  });
  format = Option.String("--format", {
    description:
      "Format output using a custom template ('table', 'table TEMPLATE', 'json', or a Go template)",
  });
  reference = Option.String({ required: false, name: "REPOSITORY[:TAG]" });

  async execute(): Promise<number> {
    const filters = await parseFilterFlag(this.filter);
    if (this.reference !== undefined) filters.add("reference", this.reference);
    const [core, images, di] = await Promise.all([
      import("@strata/core"),
      this.service((c) => c.ImageStore),
      this.context.container(),
    ]);
    const all = await images.list();
    const selected = await selectImages(all, filters, {
      all: this.all,
      resolve: (ref) => images.resolve(ref),
    });
    const format = imageFormat(this.format ?? "", this.quiet, this.digests);
    const rows = imageRows(selected, {
      all: true,
      digests: this.digests,
      needDigest: this.digests || format.includes("{{.Digest}}"),
    });
    const byImage = new Map<string, number>();
    for (const c of di.resolve(core.ContainerStore).list()) {
      byImage.set(c.imageId, (byImage.get(c.imageId) ?? 0) + 1);
    }
    const usage = new Map(core.imageUsage(all, byImage).map((u) => [u.image.id, u]));
    const contexts = rows.map((r) =>
      imageContext(r, usage.get(r.image.id), { trunc: !this.noTrunc }),
    );
    this.print(await renderFormat({ format, rows: contexts, header: IMAGE_HEADER }));
    return 0;
  }
}
