import { Command } from "clipanion";
import { formatTable } from "../../format/table-writer.js";
import { VERSION } from "../../version.js";
import { StrataCommand } from "../strata-command.js";

/** Node's `process.arch` names in Go's GOARCH spelling, as docker prints OS/Arch. */
const GOARCH: Record<string, string> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
};

/** `strata version`: version information, laid out like docker's Client section. */
export class VersionCommand extends StrataCommand {
  static override paths = [["version"]];

  static override usage = Command.Usage({
    category: "System",
    description: "Show the strata version information",
    examples: [["Show version information", "$0 version"]],
  });

  async execute(): Promise<number> {
    const { DRIVER_CONTRACT_VERSION } = await import("@strata/core");
    const arch = GOARCH[process.arch] ?? process.arch;
    // docker lays this section out with tabwriter(minwidth 20, padding 1).
    const rows = [
      ["Client:"],
      [" Version:", VERSION],
      [" API version:", `${DRIVER_CONTRACT_VERSION} (driver contract)`],
      [" Node version:", process.version],
      [" OS/Arch:", `${process.platform}/${arch}`],
    ];
    this.print(formatTable(rows, { minWidth: 20, padding: 1 }));
    return 0;
  }
}
