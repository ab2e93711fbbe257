import type { Command } from "./command.ts";
import { parseArgs } from "node:util";
import { VERSION } from "../version.ts";
import { UsageError } from "../errors.ts";

export const versionCommand: Command = {
  name: "version",
  summary: "print bm's version",
  usage: "Usage: bm version [--output json]",
  run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { output: { type: "string" } } }));
    } catch (e) {
      throw new UsageError(`Bad arguments to "version": ${(e as Error).message}`);
    }
    if (values.output === "json") {
      console.log(JSON.stringify({ app_version: VERSION, deno: Deno.version.deno }));
    } else {
      console.log(`bm ${VERSION} (deno ${Deno.version.deno})`);
    }
    return Promise.resolve(0);
  },
};
