/**
 * Sensor figures (not tests): run as root on Linux.
 *
 *   deno run -A bench/sensor_bench.ts [--quick]
 *
 * 1. records/s through wait + drain + decode on one core (synthetic sensor:
 *    records injected through the bm_sensor_inject hook, injection not timed);
 * 2. auth round trip (record time in C -> TS answer -> respond returns) p50/p99
 *    at 100 and 1,000 execs/s, on a tmpfs this script mounts;
 * 3. fork+exec of a tiny binary in that tmpfs: agent in block mode answering
 *    from TS, and with the allow cache on (C cache + kernel ignore mark: repeat
 *    execs are not even asked), each against no agent, as ratios measured in
 *    the same run (rounds interleaved to share the noise). The agent runs in
 *    full: proc connector, /proc enrichment and TS decoding of every record.
 */
import { SensorBinding } from "../ffi/binding.ts";
import { encodeRecord } from "../ffi/record_encoder.ts";
import { STR } from "../ffi/symbols.ts";
import { decodeRecords } from "../ffi/decoder.ts";
import { NativeSensor } from "../src/sensor/native_sensor.ts";

const quick = Deno.args.includes("--quick");
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
  const b = SensorBinding.open({
    config: "ring_bytes=67108864\nown_pid=1\n",
    synthetic: true,
    bufferBytes: 1 << 20,
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
// prints the elapsed seconds of the spawn+wait loop. It runs outside the marked
// mount, so only the target's exec is held.
const DRIVER = `import os, sys, time
target, n, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
gap = 1.0 / rate if rate > 0 else 0.0
t0 = time.perf_counter()
nxt = t0
for i in range(n):
    if gap:
        nxt += gap
        d = nxt - time.perf_counter()
        if d > 0: time.sleep(d)
    pid = os.posix_spawn(target, [target], {})
    os.waitpid(pid, 0)
print(time.perf_counter() - t0)`;

async function drive(target: string, n: number, rate: number): Promise<number> {
  const o = await new Deno.Command("python3", {
    args: ["-c", DRIVER, target, String(n), String(rate)],
    stdout: "piped",
  }).output();
  if (!o.success) throw new Error("driver failed");
  return Number(new TextDecoder().decode(o.stdout).trim());
}

function pump(s: NativeSensor, rtts: number[] | null, cache: boolean) {
  let running = true;
  const done = (async () => {
    while (running) {
      const batch = await s.next(50);
      if (batch === null) break;
      for (const e of batch) {
        const id = e.bm?.auth_id;
        if (id === undefined) continue;
        s.respond({ authId: id, allow: true, cache });
        if (rtts) rtts.push(s.nowMs() - e["@timestamp"]);
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
  for (const rate of [100, 1000]) {
    const s = NativeSensor.open({ marks: "mounts", mounts: [dir], notifyFiles: false });
    const rtts: number[] = [];
    const stop = pump(s, rtts, false);
    const n = quick ? rate : rate * 3;
    const secs = await drive(target, n, rate);
    await new Promise((r) => setTimeout(r, 100));
    const st = s.stats();
    await stop();
    await s.close();
    console.log(
      `auth round trip @ ${rate}/s (achieved ${(n / secs).toFixed(0)}/s, ${rtts.length} auth): ` +
        `p50 ${(pct(rtts, 50) * 1000).toFixed(0)} us, p99 ${
          (pct(rtts, 99) * 1000).toFixed(0)
        } us, ` +
        `max ${(Math.max(...rtts) * 1000).toFixed(0)} us; watchdog ${st.authByWatchdog}`,
    );
  }
}

// ---- 3. fork+exec overhead ratio ------------------------------------------

async function overhead(dir: string, target: string): Promise<void> {
  const n = quick ? 300 : 1000;
  const rounds = quick ? 2 : 4;
  const t = { none: 0, ts: 0, cache: 0 };
  for (let r = 0; r < rounds; r++) {
    t.none += await drive(target, n, 0);
    {
      const s = NativeSensor.open({ marks: "mounts", mounts: [dir], notifyFiles: false });
      const stop = pump(s, null, false);
      t.ts += await drive(target, n, 0);
      await stop();
      await s.close();
    }
    {
      const s = NativeSensor.open({
        marks: "mounts",
        mounts: [dir],
        notifyFiles: false,
        allowCache: true,
      });
      const stop = pump(s, null, true);
      t.cache += await drive(target, n, 0);
      const st = s.stats();
      await stop();
      await s.close();
      if (st.authByAgent > 1) console.log(`(cache round: ${st.authByAgent} execs went to TS)`);
    }
  }
  const per = (x: number) => ((x / (n * rounds)) * 1e6).toFixed(0);
  console.log(
    `fork+exec in marked tmpfs (${n * rounds} each): no agent ${per(t.none)} us, ` +
      `block mode via TS ${per(t.ts)} us (ratio ${(t.ts / t.none).toFixed(3)}), ` +
      `allow cache in C ${per(t.cache)} us (ratio ${(t.cache / t.none).toFixed(3)})`,
  );
}

if (import.meta.main) {
  if (Deno.uid() !== 0 || Deno.build.os !== "linux") {
    console.error("Benchmark needs root on Linux");
    Deno.exit(1);
  }
  sh("make", ["-s", "-C", `${repo}dylib`, "all"]);
  console.log(`cpus ${navigator.hardwareConcurrency}, load ${Deno.loadavg().join(" ")}`);
  await throughput();
  await withTmpfs(async (dir) => {
    const target = `${dir}/true`;
    await Deno.copyFile(await Deno.realPath("/usr/bin/true"), target);
    await Deno.chmod(target, 0o755);
    await roundTrip(dir, target);
    await overhead(dir, target);
  });
}
