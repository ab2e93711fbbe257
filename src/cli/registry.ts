/**
 * Every top-level `bm` verb, in the order `bm --help` lists them. Each verb's
 * file handles its own subcommands and help.
 */
import type { Command } from "./command.ts";
import { versionCommand } from "./version.ts";
import { rulesCommand } from "./rules.ts";
import { replayCommand } from "./replay.ts";
import { configCommand } from "./config.ts";
import { threatCommand } from "./threat.ts";
import { threatsCommand } from "./threats.ts";
import { alertCommand } from "./alert.ts";
import { recordCommand } from "./record.ts";
import { daemonCommand } from "./daemon.ts";
import { healthCommand } from "./health.ts";
import { diagnosticCommand } from "./diagnostic.ts";
import { demoCommand } from "./demo.ts";

export const COMMANDS: readonly Command[] = [
  daemonCommand,
  healthCommand,
  diagnosticCommand,
  configCommand,
  threatsCommand,
  threatCommand,
  alertCommand,
  rulesCommand,
  replayCommand,
  recordCommand,
  demoCommand,
  versionCommand,
];
