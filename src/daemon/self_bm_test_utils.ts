/**
 * Test helpers for the tests that run `bm` as a child process of this Deno
 * (main.ts under the test's own flags, no bin/bm wrapper): its run and the
 * environment of a private state dir and config. Benchmarks use them too.
 */
import { selfCommand } from "./self_command.ts";

const self = selfCommand();

/** BM_STATE_DIR, BM_LOCAL_CONFIG (bm.toml) and BM_MANAGED_CONFIG (managed.json) under dir. */
export function privateEnv(dir: string) {
  return {
    BM_STATE_DIR: `${dir}/state`,
    BM_LOCAL_CONFIG: `${dir}/bm.toml`,
    BM_MANAGED_CONFIG: `${dir}/managed.json`,
  };
}

/** Runs `bm ARGS` in env (killed after 30 s); its exit code and decoded output. */
export async function bm(env: Record<string, string>, ...args: string[]) {
  const out = await new Deno.Command(self.cmd, {
    args: [...self.args, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
