/**
 * macOS records end to end, as far as Linux allows: EndpointSecurity-shaped
 * messages (dylib/tests/test_macos_translate.c) are mapped and encoded by the
 * real C code (dylib/macos/es_map.c, dylib/common/macos_translate.c), and the
 * agent's decoder (ffi/decoder.ts) must turn the bytes into the BmEvent that
 * rules see, macOS extras included.
 */
import assert from "node:assert/strict";
import { decodeRecords } from "../../ffi/decoder.ts";
import type { BmEvent } from "../../src/sensor/event.ts";

const root = new URL("../../", import.meta.url).pathname;

async function records(): Promise<Map<string, BmEvent>> {
  const make = await new Deno.Command("make", {
    args: ["-s", "-C", `${root}dylib`, "build/test_macos_translate"],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(300_000),
  }).output();
  assert.equal(make.code, 0, new TextDecoder().decode(make.stderr));
  const dir = await Deno.makeTempDir({ prefix: "bm_es_records_" });
  try {
    const run = await new Deno.Command(`${root}dylib/build/test_macos_translate`, {
      args: ["--dump", dir],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const out = new Map<string, BmEvent>();
    for await (const e of Deno.readDir(dir)) {
      const bytes = await Deno.readFile(`${dir}/${e.name}`);
      const { events, skipped } = decodeRecords(bytes, bytes.length, "macos");
      assert.equal(skipped, 0);
      assert.equal(events.length, 1, e.name);
      out.set(e.name.replace(/\.rec$/, ""), events[0]!);
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ES-shaped messages decode to the events rules see, macOS extras included", async () => {
  const ev = await records();
  assert.deepEqual([...ev.keys()].sort(), [
    "create",
    "deletexattr",
    "exec",
    "exit",
    "fork",
    "launch_item_add",
    "rename",
  ]);

  const exec = ev.get("exec")!;
  assert.equal(exec.event.action, "exec");
  assert.equal(exec["@timestamp"], 1790000123456);
  assert.equal(exec.bm?.source, "macos");
  assert.deepEqual(exec.process, {
    pid: 4100,
    start: 1790000000250,
    entity_id: "4100-1790000000250",
    executable: "/Users/ann/Downloads/payload",
    name: "payload",
    args: ["./payload", "--stage", "two words"],
    // sensor.envVars names set in the ES exec event's environment, first binding, cut at 1 KiB
    env_vars: [
      "DYLD_INSERT_LIBRARIES=/Users/Shared/.x/inject.dylib",
      `DYLD_LIBRARY_PATH=${"v".repeat(1024)}`,
    ],
    working_directory: "/Users/ann/Downloads",
    parent: { pid: 4000 },
    responsible_pid: 900,
    tty: "/dev/ttys003",
    code_signature: {
      signing_id: "payload-55554944",
      team_id: "ABCDE12345",
      cdhash: "0f000000000000000000000000000000000000f0",
      platform_binary: false,
    },
  });
  assert.deepEqual(exec.user, { id: 501, effective: { id: 0 } });
  assert.ok("file" in exec && exec.file, "exec carries the executed file");
  assert.equal(exec.file.path, "/Users/ann/Downloads/payload");
  assert.equal(exec.file.uid, 501);
  assert.equal(exec.file.size, 51234);

  const fork = ev.get("fork")!;
  assert.equal(fork.process.pid, 4200);
  assert.equal(fork.process.parent?.pid, 4100);
  assert.equal(fork.process.code_signature?.platform_binary, true);
  assert.equal(fork.process.code_signature?.signing_id, "com.apple.zsh");

  assert.equal(ev.get("exit")!.process.exit_code, 137);

  const create = ev.get("create")!;
  assert.equal(
    "file" in create && create.file?.path,
    "/Users/ann/Library/LaunchAgents/com.evil.agent.plist",
  );

  const rename = ev.get("rename")!;
  assert.ok("file" in rename && rename.file);
  assert.equal(rename.file.path, "/Users/ann/Downloads/payload");
  assert.equal(rename.file.target_path, "/Users/ann/Library/LaunchAgents/x");

  const xattr = ev.get("deletexattr")!;
  assert.ok("file" in xattr && xattr.file);
  assert.equal(xattr.file.xattr, "com.apple.quarantine");

  const btm = ev.get("launch_item_add")!;
  assert.equal(btm.event.action, "launch_item_add");
  assert.equal(btm.process.pid, 4200);
  assert.ok("file" in btm && btm.file);
  assert.equal(btm.file.path, "/Users/ann/.evil/agent");
  assert.equal(
    btm.bm?.launch_item,
    "file:///Users/ann/Library/LaunchAgents/com.evil.agent.plist",
  );
});
