/**
 * A private `bm daemon` for the benches that run one (overhead.ts,
 * profile_daemon.ts): its state and config in a temp dir, `bin/bm` calls
 * against it, and the wait until it reports behavior monitoring enabled.
 * Benches only: product code never imports bench/.
 */
export { privateEnv as daemonEnv } from "../src/daemon/self_bm_test_utils.ts";

const repo = new URL("../", import.meta.url).pathname;

/** Runs `bin/bm ARGS` in env; resolves to its stdout. */
export type BmCli = (args: string[]) => Promise<string>;

/** `bin/bm` against the daemon of env. */
export function bmCli(env: Record<string, string>): BmCli {
  return async (args) => {
    const o = await new Deno.Command(`${repo}bin/bm`, { args, env, stdout: "piped" }).output();
    return new TextDecoder().decode(o.stdout);
  };
}

/**
 * Polls `bm health` every 200 ms until behavior_monitoring is "enabled";
 * throws after ms with the last state seen (the caller stops the daemon).
 */
export async function waitUntilEnabled(bm: BmCli, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let last = "";;) {
    try {
      const h = JSON.parse(await bm(["health", "--output", "json"])).fields;
      if (h.behavior_monitoring === "enabled") return;
      last = JSON.stringify(h.behavior_monitoring_reason ?? h.behavior_monitoring);
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `bm daemon did not report behavior_monitoring "enabled" within ${ms / 1000} s: ${last}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
