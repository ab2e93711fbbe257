/**
 * Helpers for sensor tests that run as root against a tmpfs they mount
 * themselves: fanotify marks go ONLY on that tmpfs, every test has a hard
 * timeout, and the mount is always removed.
 */
import { BmError } from "../../src/errors.ts";
import type { NativeSensor } from "../../src/sensor/native_sensor.ts";
import type { BmEvent, FileFields } from "../../src/sensor/event.ts";

export const ROOT = Deno.uid() === 0;
const repo = new URL("../../", import.meta.url).pathname;

/** Builds the library once per run (scripts/test.sh also builds it). */
let built = false;
export function buildLibrary(): void {
  if (built) return;
  const r = new Deno.Command("make", { args: ["-s", "-C", `${repo}dylib`, "all"] }).outputSync();
  if (!r.success) {
    throw new Error(`make -C dylib failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  built = true;
}

/**
 * Builds the test build of the library once per run (make test-lib: exports
 * the hooks of bm_sensor_testing.h, honours test-only keys such as
 * marks_only_under and debug_stall_ms); returns its path.
 */
export { buildTestLibrary } from "../../ffi/synthetic_test_utils.ts";

/** Mounts a tmpfs on path (created if missing). */
export function mountTmpfs(path: string): void {
  Deno.mkdirSync(path, { recursive: true });
  run("mount", ["-t", "tmpfs", "-o", "size=32m,mode=0755", "bm_test", path]);
}

/** Unmounts path (lazily if busy). */
export function umount(path: string): void {
  try {
    run("umount", [path]);
  } catch {
    run("umount", ["-l", path]);
  }
}

function run(cmd: string, args: string[]): void {
  const r = new Deno.Command(cmd, { args, stderr: "piped" }).outputSync();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr).trim()}`);
  }
}

/** Mounts a fresh tmpfs, runs fn(dir), unmounts in finally. */
export async function withTmpfs<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "bm_sensor_" });
  run("mount", ["-t", "tmpfs", "-o", "size=32m,mode=0755", "bm_test", dir]);
  try {
    return await fn(dir);
  } finally {
    try {
      run("umount", [dir]);
    } catch {
      run("umount", ["-l", dir]);
    }
    await Deno.remove(dir);
  }
}

/** Rejects after ms; the finally blocks of fn still run when it settles. */
export async function withTimeout<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BmError(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Copies a system binary into dir (so execs of it hit the tmpfs marks). */
export async function copyBinary(name: string, dir: string, as = name): Promise<string> {
  const src = await Deno.realPath(`/usr/bin/${name}`);
  const dst = `${dir}/${as}`;
  await Deno.copyFile(src, dst);
  await Deno.chmod(dst, 0o755);
  return dst;
}

/**
 * Starts a shell script. Never spawn a binary on the marked mount directly:
 * Deno's spawn waits for the child's exec, which the sensor holds.
 */
export function sh(script: string): Deno.ChildProcess {
  return new Deno.Command("/bin/sh", { args: ["-c", script], stdout: "piped", stderr: "piped" })
    .spawn();
}

/** Waits for a child started by sh and returns its exit code and decoded output. */
export async function finish(p: Deno.ChildProcess) {
  const o = await p.output();
  return {
    code: o.code,
    out: new TextDecoder().decode(o.stdout),
    err: new TextDecoder().decode(o.stderr),
  };
}

/** The file fields of an event, if it has them. */
export function fileOf(e: BmEvent | undefined): FileFields | undefined {
  return e && "file" in e ? e.file : undefined;
}

/** How a test answers an auth event; null = stay silent (the watchdog answers). */
export type Policy = (e: BmEvent) => { allow: boolean; cache?: boolean } | null;

/** Allows every auth event, uncached. */
export const allowAll: Policy = () => ({ allow: true });

/** Pulls events in the background and answers auth events by policy. */
export function pump(sensor: NativeSensor, policy: Policy) {
  const events: BmEvent[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const batch = await sensor.next(50);
      if (batch === null) break;
      for (const e of batch) {
        events.push(e);
        const id = e.bm?.auth_id;
        if (id === undefined) continue;
        const a = policy(e);
        if (a) sensor.respond({ authId: id, allow: a.allow, cache: a.cache ?? false });
      }
    }
  })();
  return {
    events,
    async stop() {
      running = false;
      await done;
    },
  };
}
