import { Command, Option, UsageError } from "clipanion";
import { StrataCommand } from "../strata-command.js";
import { promptLine } from "./prompt.js";

/** `strata login [OPTIONS] [SERVER]`: check and store credentials for a registry. */
export class LoginCommand extends StrataCommand {
  static override paths = [["login"]];

  static override usage = Command.Usage({
    category: "Registries",
    description: "Log in to a registry",
    details: `
      Checks the credentials against SERVER (Docker Hub when omitted) and stores them in
      the client config directory's \`auth.json\` (mode 0600, docker's config format), where
      pull, push and search find them. They are only ever sent to that registry (and the
      token server it names). Without \`-u\` and \`-p\`, stored credentials (or docker's own
      \`~/.docker/config.json\`) are checked again.
    `,
    examples: [
      [
        "Log in with a password from standard input",
        'echo "$PW" | $0 login -u alice --password-stdin 127.0.0.1:5000',
      ],
      ["Log in interactively", "$0 login registry.example.com"],
    ],
  });

  username = Option.String("-u,--username", { description: "Username" });
  password = Option.String("-p,--password", { description: "Password" });
  passwordStdin = Option.Boolean("--password-stdin", false, {
    description: "Take the password from stdin",
  });
  server = Option.String({ required: false, name: "SERVER" });

  async execute(): Promise<number> {
    if (this.password !== undefined && this.passwordStdin) {
      throw new UsageError("--password and --password-stdin are mutually exclusive");
    }
    if (this.passwordStdin && this.username === undefined) {
      throw new UsageError("Must provide --username with --password-stdin");
    }
    if (this.password !== undefined) {
      this.context.stderr.write(
        "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
      );
    }
    const core = await import("@strata/core");
    const container = await this.context.registry();
    const client = container.resolve(core.RegistryClient);
    const domain = core.loginDomain(this.server);
    try {
      let username = this.username;
      let password = this.password;
      if (this.passwordStdin) password = (await readAll(this.context.stdin)).replace(/\r?\n$/, "");
      if (username === undefined && password === undefined) {
        const stored = client.credentials.get(domain);
        if (stored) {
          this.print("Authenticating with existing credentials...\n");
          try {
            await client.checkLogin(domain, stored);
            this.print("Login Succeeded\n");
            return 0;
          } catch (err) {
            if (!core.isErrorCode(err, "FAILED_PRECONDITION")) throw err;
            this.context.stderr.write(`Login did not succeed, error: ${(err as Error).message}\n`);
          }
        }
      }
      const stdin = this.context.stdin as NodeJS.ReadStream;
      if (username === undefined || password === undefined) {
        if (!stdin.isTTY)
          throw new core.FailedPreconditionError(
            "Cannot perform an interactive login from a non TTY device",
          );
      }
      if (username === undefined || username === "") {
        username = (await promptLine(stdin, this.context.stdout, "Username: ", true)).trim();
      }
      if (username === "") throw new core.InvalidArgumentError("Username cannot be empty");
      if (password === undefined)
        password = await promptLine(stdin, this.context.stdout, "Password: ", false);
      if (password === "") throw new core.InvalidArgumentError("Password Required");
      await client.checkLogin(domain, { username, password });
      client.credentials.set(domain, { username, password });
      this.context.stderr.write(
        `WARNING! Your credentials are stored unencrypted in '${client.credentials.file}'.\n\n`,
      );
      this.print("Login Succeeded\n");
      return 0;
    } finally {
      await client.close();
    }
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
