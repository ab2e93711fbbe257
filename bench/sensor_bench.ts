/**
 * Sensor figures (not tests): run as root on Linux.
 *
 *   deno run -A bench/sensor_bench.ts [--quick] [--lib PATH] [--rounds N]
 *
 * 1. records/s through wait + drain + decode on one core (synthetic sensor:
 *    records injected through the bm_sensor_inject hook of the test build,
 *    injection not timed);
 * 2. auth round trip p50/p90/p99 at 100 and 1,000 execs/s, on a tmpfs this
 *    script mounts: from the record's time (taken in C when the permission
 *    event is read) to the answer (TS calls respond, which writes it). Also
 *    shown: to respond's return, which on a busy CPU includes running the
 *    unblocked exec first (the write wakes it and the kernel often lets it
 *    preempt the caller), so it is not answer latency;
 * 3. fork+exec of a tiny binary in that tmpfs, timed one by one by a
 *    persistent driver, in blocks of 100 per mode with the modes shuffled in
 *    each round: no agent; a bare proc connector listener
 *    (bench/proc_listener.c); the agent in audit mode (no permission group);
 *    block mode answering from TS; block mode with the allow cache (C cache +
 *    kernel ignore mark: repeat execs are not even asked). Ratios are medians
 *    of per-round ratios of block medians, against no agent and against audit
 *    mode (the permission path's own cost). The agent runs in full: proc
 *    connector, /proc enrichment and TS decoding of every record.
 * --lib runs another build of the library (before/after comparisons with
 * this same harness): a test build (make test-lib), since part 1 uses its
 * synthetic sensor; without --lib part 1 runs dylib/build/test/ and the
 * rest dylib/build/. The box's load average is printed: on a shared 2-vCPU
 * machine the figures move with it, so run it several times.
 */
import { encodeRecord } from "../ffi/record_encoder_test_utils.ts";
import { STR } from "../ffi/symbols.ts";
import { decodeRecords } from "../ffi/decoder.ts";
import { SyntheticBinding } from "../ffi/synthetic_test_utils.ts";
import { NativeSensor } from "../src/sensor/native_sensor.ts";

const quick = Deno.args.includes("--quick");
const argAfter = (name: string) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
};
const libraryPath = argAfter("--lib");
const lib = libraryPath ? { libraryPath } : {};
const roundsArg = Number(argAfter("--rounds") ?? NaN);
const repo = new URL("../", import.meta.url).pathname;

function sh(cmd: string, args: string[]): void {
  const r = new Deno.Command(cmd, { args, stderr: "piped" }).outputSync();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

// ---- 1. throughput -------------------------------------------------------

async function throughput(): Promise<void> {
  // the synthetic sensor is a hook of the test build: --lib names a test build here
  const b = SyntheticBinding.openSynthetic({
    config: "ring_bytes=67108864\nown_pid=1\n",
    bufferBytes: 1 << 20,
    ...lib,
  });
  const rec = encodeRecord({
    kind: 6,
    pid: 4242,
    time: Date.now(),
    strings: [[STR.path, "/home/user/project/src/components/file_0001.ts"]],
  });
  const total = quick ? 1_000_000 : 4_000_000;
  const chunk = 400_000; // 400k * 144 B fits the 64 MiB ring
  let decoded = 0, rawBytes = 0, tDecode = 0, tRaw = 0;
  for (let done = 0; done < total; done += chunk) {
    b.inject(rec, chunk);
    const t0 = performance.now();
    let n = 0;
    while (n < chunk) {
      if ((await b.wait(1000)) !== 1) break;
      const ev = b.drain();
      if (!ev) break;
      n += ev.length;
    }
    tDecode += performance.now() - t0;
    decoded += n;
    // drain without decoding, for the split
    b.inject(rec, chunk);
    const t1 = performance.now();
    let m = 0;
    while (m < chunk) {
      const got = b.drainBytes();
      if (got <= 0) break;
      m += got / rec.length;
      rawBytes += got;
    }
    tRaw += performance.now() - t1;
  }
  // decode alone, from one full buffer
  b.inject(rec, 7000);
  const bytes = b.drainBytes();
  const buf = b.buffer;
  const t2 = performance.now();
  let d = 0;
  for (let i = 0; i < 200; i++) d += decodeRecords(buf, bytes, "linux").events.length;
  const tDec = performance.now() - t2;
  await b.close();
  console.log(
    `throughput: wait+drain+decode ${(decoded / (tDecode / 1000) / 1e6).toFixed(2)} M records/s ` +
      `(${decoded} records of ${rec.length} B); drain only ${
        (rawBytes / rec.length / (tRaw / 1000) / 1e6).toFixed(1)
      } M/s; decode only ${(d / (tDec / 1000) / 1e6).toFixed(2)} M/s`,
  );
}

// ---- tmpfs helpers ------------------------------------------------------

async function withTmpfs<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "bm_bench_" });
  sh("mount", ["-t", "tmpfs", "-o", "size=16m,mode=0755", "bm_bench", dir]);
  try {
    return await fn(dir);
  } finally {
    try {
      sh("umount", [dir]);
    } catch {
      sh("umount", ["-l", dir]);
    }
    await Deno.remove(dir);
  }
}

// A driver that posix_spawns `target` at a given rate (0 = back to back) and
// prints the elapsed seconds of the spawn+wait loop, then each spawn+wait in
// microseconds. It runs outside the marked mount, so only the target's exec is held.
const DRIVER = `import os, sys, time
target, n, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
gap = 1.0 / rate if rate > 0 else 0.0
each = []
t0 = time.perf_counter()
nxt = t0
for i in range(n):
    if gap:
        nxt += gap
        d = nxt - time.perf_counter()
        if d > 0: time.sleep(d)
    t = time.perf_counter()
    pid = os.posix_spawn(target, [target], {})
    os.waitpid(pid, 0)
    each.append(time.perf_counter() - t)
print(time.perf_counter() - t0)
print(" ".join("%.1f" % (x * 1e6) for x in each))`;

async function drive(target: string, n: number, rate: number): Promise<[number, number[]]> {
  const o = await new Deno.Command("python3", {
    args: ["-c", DRIVER, target, String(n), String(rate)],
    stdout: "piped",
  }).output();
  if (!o.success) throw new Error("driver failed");
  const [secs, each] = new TextDecoder().decode(o.stdout).trim().split("\n");
  return [Number(secs), (each ?? "").split(" ").map(Number)];
}

interface Rtt {
  answer: number[]; // record time -> respond called (the answer is written)
  returned: number[]; // record time -> respond returned
}

function pump(s: NativeSensor, rtt: Rtt | null, cache: boolean) {
  let running = true;
  const done = (async () => {
    while (running) {
      const batch = await s.next(50);
      if (batch === null) break;
      for (const e of batch) {
        const id = e.bm?.auth_id;
        if (id === undefined) continue;
        const t = s.nowMs();
        s.respond({ authId: id, allow: true, cache });
        if (rtt) {
          rtt.answer.push(t - e["@timestamp"]);
          rtt.returned.push(s.nowMs() - e["@timestamp"]);
        }
      }
    }
  })();
  return async () => {
    running = false;
    await done;
  };
}

// ---- 2. auth round trip ----------------------------------------------------

async function roundTrip(dir: string, target: string): Promise<void> {
  const us = (xs: number[], p: number) => (pct(xs, p) * 1000).toFixed(0);
  for (const rate of [100, 1000]) {
    const s = NativeSensor.open({ marks: "mounts", mounts: [dir], notifyFiles: false, ...lib });
    const rtt: Rtt = { answer: [], returned: [] };
    const stop = pump(s, rtt, false);
    const n = quick ? rate : rate * 3;
    const [secs] = await drive(target, n, rate);
    await new Promise((r) => setTimeout(r, 100));
    const st = s.stats();
    await stop();
    await s.close();
    const a = rtt.answer, b = rtt.returned;
    console.log(
      `auth round trip @ ${rate}/s (achieved ${(n / secs).toFixed(0)}/s, ${a.length} auth): ` +
        `to answer p50 ${us(a, 50)} us, p90 ${us(a, 90)} us, p99 ${us(a, 99)} us, ` +
        `max ${(Math.max(...a) * 1000).toFixed(0)} us; to respond's return p50 ${us(b, 50)}, ` +
        `p99 ${us(b, 99)} us; watchdog ${st.authByWatchdog}`,
    );
  }
}

// ---- 3. fork+exec overhead ratio ------------------------------------------

// A persistent driver: each "N" line on stdin runs N back-to-back spawn+wait
// of the target and answers one line of per-spawn microseconds. One process
// for the whole run, so blocks of every mode share its warm state.
const BLOCK_DRIVER = `import os, sys, time
target = sys.argv[1]
for line in sys.stdin:
    each = []
    for i in range(int(line)):
        t = time.perf_counter()
        pid = os.posix_spawn(target, [target], {})
        os.waitpid(pid, 0)
        each.append(time.perf_counter() - t)
    print(" ".join("%.1f" % (x * 1e6) for x in each), flush=True)`;

class BlockDriver {
  #child: Deno.ChildProcess;
  #w: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  constructor(target: string) {
    this.#child = new Deno.Command("python3", {
      args: ["-c", BLOCK_DRIVER, target],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    this.#w = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new LineStream(),
    )[Symbol.asyncIterator]();
  }
  async run(n: number): Promise<number[]> {
    await this.#w.write(new TextEncoder().encode(`${n}\n`));
    const r = await this.#lines.next();
    if (r.done) throw new Error("driver exited");
    return r.value.split(" ").map(Number);
  }
  async close(): Promise<void> {
    await this.#w.close();
    await this.#child.status;
  }
}

class LineStream extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, ctl) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const p of parts) ctl.enqueue(p);
      },
    });
  }
}

/**
 * none: no agent. listener: bench/proc_listener.c, a bare proc connector
 * listener (the kernel's cost of fork/exec/exit events to a reader that
 * wakes for them). audit: the agent without its permission group (proc
 * connector, /proc enrichment, records decoded in TS). ts: block mode, every
 * exec held and answered from TS. cache: block mode with the allow cache.
 */
type Mode = "none" | "listener" | "audit" | "ts" | "cache";
const MODES: Mode[] = ["none", "listener", "audit", "ts", "cache"];
type Agent = Exclude<Mode, "none" | "listener">;

/** Builds bench/proc_listener.c with cc into a temporary directory. */
function buildListener(): string {
  const dir = Deno.makeTempDirSync({ prefix: "bm_bench_listener_" });
  const out = `${dir}/proc_listener`;
  sh("cc", ["-O2", "-Wall", "-o", out, `${repo}bench/proc_listener.c`]);
  return out;
}

async function startListener(path: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(path, { stdout: "piped" }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read(); // "ready": subscribed
  reader.releaseLock();
  await child.stdout.cancel();
  if (first.done) throw new Error("proc_listener exited");
  return child;
}

/** CPU ns used so far by this process's threads, split: the sensor thread and the rest. */
function threadCpu(): { sensor: number; rest: number } {
  const out = { sensor: 0, rest: 0 };
  for (const e of Deno.readDirSync("/proc/self/task")) {
    try {
      const comm = Deno.readTextFileSync(`/proc/self/task/${e.name}/comm`).trim();
      const ns = Number(Deno.readTextFileSync(`/proc/self/task/${e.name}/schedstat`).split(" ")[0]);
      if (comm === "bm-sensor") out.sensor += ns;
      else out.rest += ns;
    } catch { /* thread gone */ }
  }
  return out;
}

/**
 * Blocks of `block` spawns, the three modes in a shuffled order each round, so
 * the VM's drift (its no-agent median moves by 30% within seconds) hits every
 * mode alike. The agent is opened before and closed after its block, outside
 * the timings; the first spawn of a cache block (the one that goes to TS and
 * fills the cache) is dropped from that block.
 */
async function overhead(dir: string, target: string): Promise<void> {
  const block = 100;
  const rounds = roundsArg > 0 ? roundsArg : quick ? 10 : 40;
  const t = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  // per round: median of a mode's block / median of another mode's block
  const paired = new Map<string, number[]>();
  const pair = (a: Mode, b: Mode, v: number) => {
    const k = `${a}/${b}`;
    paired.set(k, [...(paired.get(k) ?? []), v]);
  };
  const cpu = Object.fromEntries(
    (["audit", "ts", "cache"] as const).map((m) => [m, { sensor: 0, rest: 0 }]),
  ) as Record<Agent, { sensor: number; rest: number }>;
  const listenerPath = buildListener();
  const d = new BlockDriver(target);
  let toTs = 0;
  await d.run(block); // warm up the driver and the page cache
  for (let r = 0; r < rounds; r++) {
    const order = [...MODES];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const m = {} as Record<Mode, number>;
    for (const mode of order) {
      if (mode === "none" || mode === "listener") {
        const l = mode === "listener" ? await startListener(listenerPath) : undefined;
        const each = await d.run(block);
        if (l) {
          l.kill("SIGKILL");
          await l.status;
        }
        t[mode].push(...each);
        m[mode] = pct(each, 50);
        continue;
      }
      const s = NativeSensor.open({
        marks: "mounts",
        mounts: [dir],
        notifyFiles: false,
        blockExecution: mode !== "audit",
        allowCache: mode === "cache",
        ...lib,
      });
      const stop = pump(s, null, mode === "cache");
      const c0 = threadCpu();
      const each = await d.run(block);
      const c1 = threadCpu();
      cpu[mode].sensor += c1.sensor - c0.sensor;
      cpu[mode].rest += c1.rest - c0.rest;
      // the cache block's first exec goes to TS and fills the cache
      const kept = mode === "cache" ? each.slice(1) : each;
      t[mode].push(...kept);
      m[mode] = pct(kept, 50);
      const st = s.stats();
      await stop();
      await s.close();
      if (mode === "cache") toTs += st.authByAgent;
    }
    for (const mode of MODES) if (mode !== "none") pair(mode, "none", m[mode] / m.none);
    pair("ts", "audit", m.ts / m.audit);
    pair("cache", "audit", m.cache / m.audit);
    pair("audit", "listener", m.audit / m.listener);
  }
  await d.close();
  await Deno.remove(listenerPath.replace(/\/[^/]*$/, ""), { recursive: true });
  const med = (xs: number[]) => pct(xs, 50);
  const ratio = (a: Mode, b: Mode) => med(paired.get(`${a}/${b}`) ?? []).toFixed(3);
  console.log(
    `fork+exec of ${target.split("/").pop()} in the marked tmpfs: ${rounds} rounds of ${block} ` +
      `spawns per mode, modes shuffled in each round; ratios are medians of per-round ratios ` +
      `of block medians. No agent: median ${med(t.none).toFixed(0)} us.`,
  );
  console.log(
    `  vs no agent: bare proc connector listener ${ratio("listener", "none")}; ` +
      `agent in audit mode ${ratio("audit", "none")}; block mode via TS ${ratio("ts", "none")}; ` +
      `block mode with the allow cache in C ${ratio("cache", "none")} ` +
      `(${toTs} execs of ${rounds * block} went to TS)`,
  );
  console.log(
    `  the permission path alone (vs audit mode, same proc connector work): via TS ` +
      `${ratio("ts", "audit")}; allow cache ${ratio("cache", "audit")}. ` +
      `Audit mode vs the bare listener ${ratio("audit", "listener")}`,
  );
  const per = (ns: number) => (ns / 1000 / (rounds * block)).toFixed(0);
  console.log(
    `  agent CPU per spawn (sensor thread + other threads): audit ${per(cpu.audit.sensor)} + ${
      per(cpu.audit.rest)
    } us; via TS ${per(cpu.ts.sensor)} + ${per(cpu.ts.rest)} us; allow cache ${
      per(cpu.cache.sensor)
    } + ${per(cpu.cache.rest)} us`,
  );
}

if (import.meta.main) {
  if (Deno.uid() !== 0 || Deno.build.os !== "linux") {
    console.error("Benchmark needs root on Linux");
    Deno.exit(1);
  }
  if (!libraryPath) sh("make", ["-s", "-C", `${repo}dylib`, "all"]);
  const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(
    `cpus ${navigator.hardwareConcurrency}, load ${load()}${
      libraryPath ? `, library ${libraryPath}` : ""
    }`,
  );
  await throughput();
  await withTmpfs(async (dir) => {
    const target = `${dir}/true`;
    await Deno.copyFile(await Deno.realPath("/usr/bin/true"), target);
    await Deno.chmod(target, 0o755);
    await roundTrip(dir, target);
    await overhead(dir, target);
  });
  console.log(`load at the end ${load()}`);
}
