/**
 * Every top-level `bm` verb, in the order `bm --help` lists them. Each verb's
 * file handles its own subcommands and help.
 *
 * A verb's module is imported only when that verb runs (or help lists it):
 * `bm daemon` then never loads the other verbs' code and what only they use
 * (the Sigma importer's YAML parser, the eslogger reader, the demonstration,
 * the table formatters). Their sources, bytecode and objects stayed in the
 * daemon's heap for its whole life: about 9 MB of its idle RSS (issue 16).
 * The specifiers are string literals, so `deno compile` still bundles each.
 */
import type { Command } from "./command.ts";

/** A verb and how to load it; `load()` resolves to the Command named `name`. */
export interface CommandEntry {
  readonly name: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "daemon", load: async () => (await import("./daemon.ts")).daemonCommand },
  { name: "health", load: async () => (await import("./health.ts")).healthCommand },
  { name: "diagnostic", load: async () => (await import("./diagnostic.ts")).diagnosticCommand },
  { name: "config", load: async () => (await import("./config.ts")).configCommand },
  { name: "threats", load: async () => (await import("./threats.ts")).threatsCommand },
  { name: "threat", load: async () => (await import("./threat.ts")).threatCommand },
  { name: "alert", load: async () => (await import("./alert.ts")).alertCommand },
  { name: "rules", load: async () => (await import("./rules.ts")).rulesCommand },
  { name: "replay", load: async () => (await import("./replay.ts")).replayCommand },
  { name: "record", load: async () => (await import("./record.ts")).recordCommand },
  { name: "demo", load: async () => (await import("./demo.ts")).demoCommand },
  { name: "version", load: async () => (await import("./version.ts")).versionCommand },
];
