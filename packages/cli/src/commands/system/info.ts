import * as path from "node:path";
import { Command } from "clipanion";
import { VERSION } from "../../version.js";
import { StrataCommand } from "../strata-command.js";

/** `strata info`: the client and the store, laid out like `docker info`. */
export class InfoCommand extends StrataCommand {
  static override paths = [["info"], ["system", "info"]];

  static override usage = Command.Usage({
    category: "System",
    description: "Display system-wide information",
    details: `
      Shows the client's version, then the store: how many images and containers it
      holds, the storage driver in use and its status, the store's root directory, and
      every storage driver strata found (built-in ones, and plugin packages from the
      store's config.json or used by this store before) with whether it can work here.
    `,
    examples: [
      ["Show information on the default store", "$0 info"],
      [
        "Show information on another store and driver",
        "$0 --root /tmp/s --storage-driver vfs info",
      ],
    ],
  });

  async execute(): Promise<number> {
    const { globals } = this.context;
    const core = await import("@strata/core");
    const store = await this.service((c) => c.StoreService);
    const info = await store.info();
    const lines = [
      "Client:",
      ` Version:    ${VERSION}`,
      ` Debug Mode: ${globals.debug}`,
      "",
      "Server:",
      ` Containers: ${info.containers}`,
      ` Images: ${info.images}`,
      ` Server Version: ${VERSION}`,
      ` Storage Driver: ${info.driver}`,
      ...info.driverStatus.map(([k, v]) => `  ${k}: ${v}`),
      " Available Storage Drivers:",
    ];
    const root = path.resolve(globals.root);
    for (const { module, packageName } of await this.context.storeDrivers()) {
      const ctx = {
        name: module.name,
        storeRoot: root,
        root: path.join(root, module.name),
        options: {},
      };
      let status = "usable";
      try {
        await module.probe(ctx);
      } catch (err) {
        if (!core.isErrorCode(err, "NOT_SUPPORTED")) throw err;
        const reason = (err as Error).message.replace(new RegExp(`^${module.name}: `), "");
        status = `not supported (${reason})`;
      }
      const from = packageName !== undefined ? ` (plugin, package ${packageName})` : "";
      lines.push(`  ${module.name}${from}: ${status}`);
    }
    lines.push(` Strata Root Dir: ${info.root}`, ` Debug Mode: ${globals.debug}`);
    this.print(`${lines.join("\n")}\n`);
    return 0;
  }
}
