import { Command, Option } from "clipanion";
import { StrataCommand } from "../strata-command.js";

/** `strata logout [SERVER]`: forget the credentials stored for a registry. */
export class LogoutCommand extends StrataCommand {
  static override paths = [["logout"]];

  static override usage = Command.Usage({
    category: "Registries",
    description: "Log out from a registry",
    details: `
      Removes the credentials stored for SERVER (Docker Hub when omitted) from the client
      config directory's \`auth.json\`. docker's own config file is never changed.
    `,
    examples: [["Log out from a local registry", "$0 logout 127.0.0.1:5000"]],
  });

  server = Option.String({ required: false, name: "SERVER" });

  async execute(): Promise<number> {
    const core = await import("@strata/core");
    const container = await this.context.registry();
    const client = container.resolve(core.RegistryClient);
    const domain = core.loginDomain(this.server);
    const shown = core.CredentialStore.keyFor(domain);
    if (!client.credentials.remove(domain)) {
      this.print(`Not logged in to ${shown}\n`);
      return 0;
    }
    this.print(`Removing login credentials for ${shown}\n`);
    return 0;
  }
}
