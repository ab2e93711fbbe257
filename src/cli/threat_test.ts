import assert from "node:assert/strict";
import * as fs from "node:fs";
import { FakeClock } from "../clock_test_utils.ts";
import { ControlServer, socketPath } from "../daemon/control_socket.ts";
import { PermissionError } from "../errors.ts";
import { quarantineFile } from "../response/quarantine.ts";
import { threatDbPath, vaultDir } from "../store/state_dir.ts";
import { sampleVerdict } from "../store/verdict_test_utils.ts";
import { SqliteThreatStore } from "../store/threat_store.ts";
import { LocalThreatSource } from "../store/threat_source.ts";
import { makeThreatCommand } from "./threat.ts";
import { runBm } from "./run_bm_test_utils.ts";

function bm(state: string, ...args: string[]) {
  return runBm(args, { env: { BM_STATE_DIR: state } });
}

/** A state dir with one killed threat that quarantined `dir/payload`. */
async function seeded() {
  const dir = await Deno.makeTempDir();
  const state = `${dir}/state`;
  const clock = new FakeClock(1_800_000_000_000);
  const store = new SqliteThreatStore({ path: threatDbPath(state), clock });
  const payload = `${dir}/payload`;
  fs.writeFileSync(payload, "#!/bin/sh\necho pwned\n");
  fs.chownSync(payload, 65534, 65534);
  fs.chmodSync(payload, 0o750);
  const id = store.record(sampleVerdict());
  store.addAction(id, { type: "kill", target: "pid 4242", result: "ok", time: clock.now() });
  store.setStatus(id, "killed");
  const q = quarantineFile(payload, id, { dir: vaultDir(state), store, clock });
  store.setStatus(id, "quarantined");
  const other = store.record(sampleVerdict({ name: "Behavior:Linux/Other.B", mode: "audit" }));
  store.close();
  return { dir, state, id, other, payload, q };
}

Deno.test("bm threats and bm threat list: table and JSON with the store's fields", async () => {
  const s = await seeded();
  try {
    const text = await bm(s.state, "threats");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ID\s+NAME\s+TYPE\s+DETECTED\s+STATUS\s+PROCESS/);
    assert.ok(text.stdout.includes(s.id));
    assert.match(
      text.stdout,
      /Behavior:Linux\/DownloadExec\.A\s+behavior\s+\S+\s+quarantined\s+\/tmp\/payload \(pid 4242\)/,
    );
    const json = await bm(s.state, "threat", "list", "--output", "json");
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.threats.length, 2);
    const store = new SqliteThreatStore({
      path: threatDbPath(s.state),
      clock: new FakeClock(0),
      readOnly: true,
    });
    assert.deepEqual(doc.threats, store.list());
    store.close();
    const audited = await bm(s.state, "threat", "list", "--status", "audited", "--output", "json");
    assert.deepEqual(JSON.parse(audited.stdout).threats.map((t: { id: string }) => t.id), [
      s.other,
    ]);
    assert.equal((await bm(s.state, "threat", "list", "--status", "bogus")).code, 2);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("bm threat show: lineage tree with rule hits, score path, events, actions; JSON; unknown id exits 2", async () => {
  const s = await seeded();
  try {
    const r = await bm(s.state, "threat", "show", s.id);
    assert.equal(r.code, 0, r.stderr);
    for (
      const want of [
        `Threat ${s.id}`,
        "Status:     quarantined",
        "/sbin/init (pid 1",
        "└─ /bin/bash (pid 4000",
        "   └─ /tmp/payload --run (pid 4242",
        "<= acting process",
        "* rule linux.download_then_exec +70",
        "* rule linux.exec_from_tmp +50",
        "linux.exec_from_tmp  70 + 50 = 120",
        "#0  ",
        "create",
        "file /tmp/payload",
        "kill  pid 4242  ok",
        `${s.q.id}  ${s.payload}`,
      ]
    ) assert.ok(r.stdout.includes(want), `missing ${JSON.stringify(want)} in\n${r.stdout}`);
    const j = await bm(s.state, "threat", "show", s.id, "--output", "json");
    const t = JSON.parse(j.stdout).threat;
    assert.equal(t.id, s.id);
    assert.deepEqual(t.lineage, sampleVerdict().lineage);
    assert.equal(t.quarantine[0].id, s.q.id);
    const bad = await bm(s.state, "threat", "show", "00000000-0000-0000-0000-000000000000");
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /^Unknown threat "00000000-0000-0000-0000-000000000000"/);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("bm threat quarantine list and restore: back in place with owner and mode, no clobber", async () => {
  const s = await seeded();
  try {
    const ql = await bm(s.state, "threat", "quarantine", "list", "--output", "json");
    const entries = JSON.parse(ql.stdout).quarantine;
    assert.equal(entries.length, 1);
    assert.equal(entries[0].original_path, s.payload);
    assert.equal(entries[0].mode, 0o750);

    fs.writeFileSync(s.payload, "someone else's file");
    const clobber = await bm(s.state, "threat", "restore", "--id", s.id);
    assert.equal(clobber.code, 2, "a refusal is exit 2");
    assert.match(clobber.stderr, /a file exists there \(use --force/);
    assert.equal(fs.readFileSync(s.payload, "utf8"), "someone else's file");

    const ok = await bm(s.state, "threat", "restore", "--id", s.id, "--force");
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(fs.readFileSync(s.payload, "utf8"), "#!/bin/sh\necho pwned\n");
    const st = fs.statSync(s.payload);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [65534, 65534, 0o750]);
    const after = JSON.parse(
      (await bm(s.state, "threat", "show", s.id, "--output", "json")).stdout,
    );
    assert.equal(after.threat.status, "restored");
    assert.equal(after.threat.quarantine[0].restored_path, s.payload);
    assert.match((await bm(s.state, "threat", "show", s.id)).stdout, /restored to \//);
    const again = await bm(s.state, "threat", "restore", "--id", s.id);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /has no file in quarantine/);
    assert.equal((await bm(s.state, "threat", "restore", "--id", "nope")).code, 2);
    assert.equal((await bm(s.state, "threat", "restore")).code, 2);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("bm threat restore through a symlinked directory is refused with exit 2, file kept in the vault", async () => {
  const s = await seeded();
  try {
    const real = `${s.dir}/real`;
    fs.mkdirSync(real);
    fs.symlinkSync(real, `${s.dir}/link`);
    const r = await bm(
      s.state,
      "threat",
      "restore",
      "--id",
      s.id,
      "--destination-path",
      `${s.dir}/link/payload`,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^Cannot restore to ".*\/link\/payload": directory ".*" goes through a symlink/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.equal(fs.existsSync(`${real}/payload`), false);
    const ql = JSON.parse(
      (await bm(s.state, "threat", "quarantine", "list", "--output", "json")).stdout,
    );
    assert.equal(ql.quarantine[0].restored_path ?? null, null);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("bm threat restore of a missing vault file: clear error, exit 1, index kept", async () => {
  const s = await seeded();
  try {
    fs.unlinkSync(`${vaultDir(s.state)}/${s.q.id}`);
    const r = await bm(s.state, "threat", "restore", "--id", s.q.id);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^Cannot restore ".*payload" for threat ".*": vault file ".*" is missing/,
    );
    const ql = JSON.parse(
      (await bm(s.state, "threat", "quarantine", "list", "--output", "json")).stdout,
    );
    assert.equal(ql.quarantine.length, 1);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("a corrupt database: clear error naming the file, nothing deleted or changed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    fs.chmodSync(dir, 0o700);
    const junk = new Uint8Array(8192).map((_, i) => (i * 31 + 7) & 0xff);
    const path = threatDbPath(dir);
    fs.writeFileSync(path, junk, { mode: 0o600 });
    for (
      const args of [["threats"], ["threat", "show", "x"], [
        "threat",
        "allowed",
        "add",
        "--name",
        "N",
      ]]
    ) {
      const r = await bm(dir, ...args);
      assert.ok(r.code === 1 || r.code === 2, `${args}: ${r.code}`);
      assert.ok(r.stderr.includes(`"${path}"`), r.stderr);
      assert.match(r.stderr, /not an SQLite database/);
      assert.deepEqual(new Uint8Array(fs.readFileSync(path)), junk);
      assert.deepEqual(fs.readdirSync(dir), ["threats.db"]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm threat allowed add, list, remove", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/state`;
    assert.equal(
      (await bm(state, "threat", "allowed", "list")).stdout.trim(),
      "No allowed threats",
    );
    assert.equal(
      (await bm(state, "threat", "allowed", "add", "--name", "Behavior:Linux/X.A")).code,
      0,
    );
    const l = await bm(state, "threat", "allowed", "list", "--output", "json");
    assert.deepEqual(JSON.parse(l.stdout).allowed_threats.map((a: { name: string }) => a.name), [
      "Behavior:Linux/X.A",
    ]);
    assert.equal(
      (await bm(state, "threat", "allowed", "remove", "--name", "Behavior:Linux/X.A")).code,
      0,
    );
    assert.equal((await bm(state, "threat", "allowed", "add")).code, 2);
    assert.equal(fs.statSync(state).mode & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("non-root callers are refused anything that changes state; reads are not", async () => {
  const s = await seeded();
  try {
    const cmd = makeThreatCommand({
      uid: () => 1000,
      source: () => new LocalThreatSource({ stateDir: s.state, clock: new FakeClock(0) }),
    });
    await assert.rejects(() => cmd.run(["restore", "--id", s.id]), PermissionError);
    await assert.rejects(() => cmd.run(["allowed", "add", "--name", "N"]), PermissionError);
    await assert.rejects(() => cmd.run(["allowed", "remove", "--name", "N"]), PermissionError);
    assert.equal(fs.existsSync(s.payload), false, "restored despite refusal");
    assert.ok(fs.existsSync(`${vaultDir(s.state)}/${s.q.id}`));
    const orig = console.log;
    console.log = () => {};
    try {
      assert.equal(await cmd.run(["list"]), 0);
    } finally {
      console.log = orig;
    }
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("bm threat goes to the running daemon first: allowed add reaches its control socket", async () => {
  const dir = await Deno.makeTempDir();
  const state = `${dir}/state`;
  const calls: Array<[string, Record<string, unknown>]> = [];
  const server = await ControlServer.listen(socketPath({ get: () => state }), (m, params) => {
    calls.push([m, params]);
    if (m === "allowed_add") return Promise.resolve(true);
    if (m === "allowed_list") {
      return Promise.resolve([{ name: "Behavior:Linux/Daemon.A", added_time: 1_800_000_000_000 }]);
    }
    return Promise.reject(new Error(`Unexpected "${m}"`));
  });
  try {
    const add = await bm(state, "threat", "allowed", "add", "--name", "Behavior:Linux/X.A");
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual(calls, [["allowed_add", { name: "Behavior:Linux/X.A" }]]);
    const l = await bm(state, "threat", "allowed", "list", "--output", "json");
    assert.deepEqual(
      JSON.parse(l.stdout).allowed_threats.map((a: { name: string }) => a.name),
      ["Behavior:Linux/Daemon.A"],
      "listed from the daemon, not the local store",
    );
    // Nothing went to the local store.
    assert.equal(fs.existsSync(threatDbPath(state)), false);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
