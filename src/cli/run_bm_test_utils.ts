/** Test helpers for the CLI tests: spawn bin/bm as a real process, make temp dirs. */
import { join } from "node:path";

const BM = new URL("../../bin/bm", import.meta.url).pathname;

export interface BmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bin/bm ARGS` (killed after timeoutMs) and returns its exit code and decoded output. */
export async function runBm(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<BmRun> {
  const out = await new Deno.Command(BM, {
    args,
    ...(opts.env ? { env: opts.env } : {}),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A new temp dir holding `files` (name -> text). */
export async function tempDir(prefix: string, files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  return dir;
}
