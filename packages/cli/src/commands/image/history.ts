import { Command, Option } from "clipanion";
import { HISTORY_HEADER, historyContext, historyFormat } from "../../format/history-context.js";
import { renderFormat } from "../../format/template-format.js";
import { parseBool } from "../../global-options.js";
import { StrataCommand } from "../strata-command.js";

/** `strata history IMAGE`: the layers and steps an image was made of. */
export class ImageHistoryCommand extends StrataCommand {
  static override paths = [["history"], ["image", "history"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Show the history of an image",
    details: `
      One line per history entry, newest first. Entries that are not an image of their
      own show \`<missing>\` as IMAGE. CREATED BY is cut to 45 characters unless
      \`--no-trunc\` is given; \`-H=false\` prints exact dates and sizes in bytes.
      \`--format\` takes a Go template with the fields \`.ID .CreatedSince .CreatedAt
      .CreatedBy .Size .Comment\` (\`table TEMPLATE\` for columns, \`json\` for JSON lines).
    `,
    examples: [
      ["Show an image's history", "$0 history busybox"],
      ["Show exact times and byte sizes, untruncated", "$0 history -H=false --no-trunc busybox"],
      [
        "Show each step's size and command",
        "$0 history --format '{{.Size}}: {{.CreatedBy}}' busybox",
      ],
    ],
  });

  human = Option.String("-H,--human", {
    tolerateBoolean: true,
    description: "Print sizes and dates in human readable format (default true)",
  });
  noTrunc = Option.Boolean("--no-trunc", false, { description: "Don't truncate output" });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Only show image IDs" });
  format = Option.String("--format", {
    description:
      "Format output using a custom template ('table', 'table TEMPLATE', 'json', or a Go template)",
  });
  image = Option.String({ name: "IMAGE" });

  async execute(): Promise<number> {
    const human =
      this.human === undefined || this.human === true
        ? true
        : parseBool("--human", String(this.human));
    const images = await this.service((core) => core.ImageStore);
    const items = await images.history(this.image);
    const format = historyFormat(this.format ?? "", this.quiet, human);
    const rows = items.map((h) => historyContext(h, { trunc: !this.noTrunc, human }));
    this.print(await renderFormat({ format, rows, header: HISTORY_HEADER }));
    return 0;
  }
}
