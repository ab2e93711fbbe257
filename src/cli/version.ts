import { type Command, parseCommandArgs } from "./command.ts";
import { VERSION } from "../version.ts";

export const versionCommand: Command = {
  name: "version",
  summary: "print bm's version",
  usage: "Usage: bm version [--output json]",
  run(args) {
    const { values } = parseCommandArgs("version", {
      args,
      options: { output: { type: "string" } },
    });
    if (values.output === "json") {
      console.log(JSON.stringify({ app_version: VERSION, deno: Deno.version.deno }));
    } else {
      console.log(`bm ${VERSION} (deno ${Deno.version.deno})`);
    }
    return Promise.resolve(0);
  },
};
