import { existsSync } from "node:fs";
import * as path from "node:path";
import type { StoreCheckReport } from "@strata/core";
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
      every storage driver's snapshots (each driver the store has a directory for) against
      the images, containers and the driver's own directories, leftover temporary files and
      mounts whose process is gone. Prints one line per finding and a
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
    const others = await this.otherDrivers(report.driver);
    const problems = [report, ...others.map((o) => o.report)].reduce(
      (n, r) => n + (r?.problems ?? 0),
      0,
    );
    if (this.format === "json") {
      const drivers = others.map((o) => o.report ?? { driver: o.driver, skipped: o.skipped });
      this.print(`${JSON.stringify({ ...report, otherDrivers: drivers }, null, 2)}\n`);
    } else if (!this.quiet) {
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
      const outcome = (r: StoreCheckReport) => {
        const notes = r.findings.length - r.problems;
        return (
          `${r.problems === 0 ? "no problems" : plural(r.problems, "problem")}` +
          `${notes > 0 ? `, ${plural(notes, "note")}` : ""}`
        );
      };
      const lines: string[] = [];
      for (const r of [report, ...others.flatMap((o) => (o.report ? [o.report] : []))]) {
        lines.push(...r.repairs.map((x) => `repaired: ${x}`));
        lines.push(...r.findings.map((f) => `${f.severity}: ${f.subject}: ${f.message}`));
      }
      lines.push(
        `Checked ${plural(report.blobs.count, "blob")} (${humanSize(report.blobs.bytes)}), ` +
          `${plural(report.images, "image")}, ${plural(report.containers, "container")}, ` +
          `${plural(report.snapshots, "snapshot")} (${report.driver}): ${outcome(report)}`,
      );
      for (const o of others) {
        lines.push(
          o.report
            ? `Checked ${plural(o.report.snapshots, "snapshot")} (${o.driver}): ${outcome(o.report)}`
            : `Not checked: the snapshots of driver ${o.driver} (${o.skipped})`,
        );
      }
      this.print(`${lines.join("\n")}\n`);
    }
    return problems === 0 ? 0 : 1;
  }

  /**
   * The snapshots of every other driver this store has a directory for, each checked
   * (and repaired) through a composition of its own; a driver that cannot work here is
   * skipped, saying why.
   */
  private async otherDrivers(
    current: string,
  ): Promise<{ driver: string; report?: StoreCheckReport; skipped?: string }[]> {
    const { createContainer } = await import("../../container.js");
    const { StoreChecker } = await import("@strata/core");
    const root = path.resolve(this.context.globals.root);
    const out: { driver: string; report?: StoreCheckReport; skipped?: string }[] = [];
    for (const module of await this.context.drivers()) {
      if (module.name === current || !existsSync(path.join(root, module.name))) continue;
      let composition: Awaited<ReturnType<typeof createContainer>>;
      try {
        composition = await createContainer({
          root,
          storageDriver: module.name,
          recordDriverUse: false,
        });
      } catch (err) {
        out.push({ driver: module.name, skipped: (err as Error).message });
        continue;
      }
      try {
        const checker = composition.container.resolve(StoreChecker);
        out.push({
          driver: module.name,
          report: await checker.check({ repair: this.repair, snapshotsOnly: true }),
        });
      } finally {
        await composition.dispose();
      }
    }
    return out;
  }
}
