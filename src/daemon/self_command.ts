import { V8_FLAGS_ARG } from "./v8_flags.ts";

/**
 * How to start this same bm as a child process: the compiled binary runs
 * itself; from source, the real deno binary runs main.ts (never npm's node
 * shim, which does not forward signals to its child).
 */
export function selfCommand(): { cmd: string; args: string[] } {
  const exe = Deno.execPath();
  const main = new URL("../../main.ts", import.meta.url);
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  if (main.protocol === "file:" && base === "deno") {
    const path = main.pathname;
    try {
      Deno.statSync(path);
      const config = new URL("../../deno.json", import.meta.url).pathname;
      return {
        cmd: exe,
        args: [
          "run",
          "--quiet",
          "--allow-all",
          V8_FLAGS_ARG,
          "--cached-only",
          "--config",
          config,
          path,
        ],
      };
    } catch { /* not a source checkout: a compiled binary */ }
  }
  return { cmd: exe, args: [] };
}
