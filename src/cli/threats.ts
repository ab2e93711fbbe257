/** `bm threats`: mdatp-style shorthand for `bm threat list`. */
import type { Command } from "./command.ts";
import { makeThreatCommand, type ThreatCommandDeps } from "./threat.ts";

export function makeThreatsCommand(deps: ThreatCommandDeps = {}): Command {
  return makeThreatCommand(deps, "threats");
}

export const threatsCommand: Command = makeThreatsCommand();
