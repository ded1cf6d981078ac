import type { CommandClass } from "clipanion";
import type { StrataContext } from "../context.js";
import { ImageHistoryCommand } from "./image/history.js";
import { ImageImportCommand } from "./image/import.js";
import { ImageInspectCommand } from "./image/inspect.js";
import { ImageLoadCommand } from "./image/load.js";
import { ImageListCommand } from "./image/ls.js";
import { ImageRemoveCommand } from "./image/rm.js";
import { ImageSaveCommand } from "./image/save.js";
import { ImageTagCommand } from "./image/tag.js";
import { InfoCommand } from "./system/info.js";
import { InspectCommand } from "./system/inspect.js";
import { VersionCommand } from "./system/version.js";

/** Every command of `strata`, in the order `strata --help` lists them. */
export const COMMANDS: CommandClass<StrataContext>[] = [
  ImageListCommand,
  ImageImportCommand,
  InspectCommand,
  ImageInspectCommand,
  ImageTagCommand,
  ImageRemoveCommand,
  ImageHistoryCommand,
  ImageSaveCommand,
  ImageLoadCommand,
  InfoCommand,
  VersionCommand,
];
