import { Command, Option, UsageError } from "clipanion";
import { humanSize } from "../../format/human-size.js";
import { StrataCommand } from "../strata-command.js";

/** `strata system check [--repair] [-q] [--format json]`: verify the whole store. */
export class SystemCheckCommand extends StrataCommand {
  static override paths = [["system", "check"]];

  static override usage = Command.Usage({
    category: "System",
    description: "Verify the store and optionally repair it",
    details: `
      Reads every blob and checks it against its digest, then checks every image (its
      manifest, config and layer blobs, its layer records), tags and digest references,
      the selected storage driver's snapshots against the images and containers, leftover
      temporary files and mounts whose process is gone. Prints one line per finding and a
      summary; exits 1 when problems remain. A \`note\` is not a problem: space an
      interrupted operation left (an unreferenced blob, an unused layer snapshot).

      \`--repair\` fixes what it can and says what it did: a corrupt blob is deleted
      together with the images that need it (pull or load them again; an image a
      container uses is kept and named), dangling tags, stray records, orphan snapshots and
      temporary files are removed, stale mounts unmounted, unreferenced blobs deleted.
      Then it checks again.
    `,
    examples: [
      ["Check the store", "$0 system check"],
      ["Check and repair", "$0 system check --repair"],
      ["Only the exit status", "$0 system check -q"],
    ],
  });

  repair = Option.Boolean("--repair", false, { description: "Fix what can be fixed" });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Print nothing; exit 1 on problems" });
  format = Option.String("--format", { description: "'json' for a JSON report" });

  async execute(): Promise<number> {
    if (this.format !== undefined && this.format !== "json") {
      throw new UsageError(`--format: only "json" is supported, not "${this.format}"`);
    }
    const checker = await this.service((core) => core.StoreChecker);
    const report = await checker.check({ repair: this.repair });
    if (this.format === "json") {
      this.print(`${JSON.stringify(report, null, 2)}\n`);
    } else if (!this.quiet) {
      const lines = [
        ...report.repairs.map((r) => `repaired: ${r}`),
        ...report.findings.map((f) => `${f.severity}: ${f.subject}: ${f.message}`),
      ];
      const notes = report.findings.length - report.problems;
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
      lines.push(
        `Checked ${plural(report.blobs.count, "blob")} (${humanSize(report.blobs.bytes)}), ` +
          `${plural(report.images, "image")}, ${plural(report.containers, "container")}, ` +
          `${plural(report.snapshots, "snapshot")} (${report.driver}): ` +
          `${report.problems === 0 ? "no problems" : plural(report.problems, "problem")}` +
          `${notes > 0 ? `, ${plural(notes, "note")}` : ""}`,
      );
      this.print(`${lines.join("\n")}\n`);
    }
    return report.problems === 0 ? 0 : 1;
  }
}
