import type { CommandClass } from "clipanion";
import type { StrataContext } from "../context.js";
import { ContainerCommitCommand } from "./container/commit.js";
import { ContainerCopyCommand } from "./container/cp.js";
import { ContainerCreateCommand } from "./container/create.js";
import { ContainerDiffCommand } from "./container/diff.js";
import { ContainerExecCommand } from "./container/exec.js";
import { ContainerExportCommand } from "./container/export.js";
import { ContainerInspectCommand } from "./container/inspect.js";
import { ContainerKillCommand } from "./container/kill.js";
import { ContainerLogsCommand } from "./container/logs.js";
import { ContainerPauseCommand } from "./container/pause.js";
import { ContainerPruneCommand } from "./container/prune.js";
import { ContainerListCommand } from "./container/ps.js";
import { ContainerRestartCommand } from "./container/restart.js";
import { ContainerRemoveCommand } from "./container/rm.js";
import { ContainerRunCommand } from "./container/run.js";
import { ContainerStartCommand } from "./container/start.js";
import { ContainerStopCommand } from "./container/stop.js";
import { ContainerUnpauseCommand } from "./container/unpause.js";
import { ContainerWaitCommand } from "./container/wait.js";
import { ImageBuildCommand } from "./image/build.js";
import { ImageHistoryCommand } from "./image/history.js";
import { ImageImportCommand } from "./image/import.js";
import { ImageInspectCommand } from "./image/inspect.js";
import { ImageLoadCommand } from "./image/load.js";
import { ImageListCommand } from "./image/ls.js";
import { ImagePruneCommand } from "./image/prune.js";
import { ImageRemoveCommand } from "./image/rm.js";
import { ImageSaveCommand } from "./image/save.js";
import { ImageTagCommand } from "./image/tag.js";
import { LoginCommand } from "./registry/login.js";
import { LogoutCommand } from "./registry/logout.js";
import { ImagePullCommand } from "./registry/pull.js";
import { ImagePushCommand } from "./registry/push.js";
import { SearchCommand } from "./registry/search.js";
import { SystemCheckCommand } from "./system/check.js";
import { CompletionCommand } from "./system/completion.js";
import { SystemDfCommand } from "./system/df.js";
import { InfoCommand } from "./system/info.js";
import { InspectCommand } from "./system/inspect.js";
import { SystemPruneCommand } from "./system/prune.js";
import { VersionCommand } from "./system/version.js";

/** Every command of `strata`, in the order `strata --help` lists them. */
export const COMMANDS: CommandClass<StrataContext>[] = [
  ImageListCommand,
  ImageBuildCommand,
  ImageImportCommand,
  ImagePullCommand,
  ImagePushCommand,
  SearchCommand,
  LoginCommand,
  LogoutCommand,
  InspectCommand,
  ImageInspectCommand,
  ImageTagCommand,
  ImageRemoveCommand,
  ImageHistoryCommand,
  ImagePruneCommand,
  ImageSaveCommand,
  ImageLoadCommand,
  InfoCommand,
  VersionCommand,
  SystemDfCommand,
  SystemPruneCommand,
  SystemCheckCommand,
  CompletionCommand,
  ContainerRunCommand,
  ContainerCreateCommand,
  ContainerStartCommand,
  ContainerStopCommand,
  ContainerKillCommand,
  ContainerRemoveCommand,
  ContainerListCommand,
  ContainerLogsCommand,
  ContainerExecCommand,
  ContainerDiffCommand,
  ContainerCommitCommand,
  ContainerExportCommand,
  ContainerCopyCommand,
  ContainerInspectCommand,
  ContainerPauseCommand,
  ContainerUnpauseCommand,
  ContainerRestartCommand,
  ContainerWaitCommand,
  ContainerPruneCommand,
];
