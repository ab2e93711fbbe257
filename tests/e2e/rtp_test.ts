/**
 * forwardRtpToBm, end to end: a real daemon (real sensor, marks confined to
 * the test tmpfs) hashes files written there; the EICAR test file, whose
 * SHA-256 is in policies/rtp_blocklist.txt, feeds the built-in
 * `builtin.rtp_forward` rule (score 60) of the process that wrote it.
 *
 * 60 alone is under the default threshold (100), so this agent runs in audit
 * mode with `engine.scoreThreshold = 50`: each writer of the file then
 * becomes an audited `Behavior:Linux/RtpForward.A` threat, which is what can
 * be observed of the score path. Root only; every wait has a hard timeout.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Threat } from "../../src/store/threat.ts";
import { canRunE2e, keepingLogs, run, sleep, startAgent } from "./_harness.ts";

const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const EICAR_SHA = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
const NAME = "Behavior:Linux/RtpForward.A";

Deno.test({
  name: "e2e forwardRtpToBm: writers of the EICAR file are scored by builtin.rtp_forward",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const agent = await startAgent({ mode: "audit", toml: "[engine]\nscoreThreshold = 50\n" });
    try {
      const h0 = await agent.health();
      assert.equal(h0.forward_rtp_to_bm, "enabled");
      assert.equal(h0.rtp_blocklist_entries, 2, "policies/rtp_blocklist.txt loaded");

      // A benign file written by a shell: not read, no shipped entry has its size (11 bytes).
      const benign = `${agent.scratch}/notes.txt`;
      const sh = await run("sh", ["-c", `printf 'just notes\\n' > "$1"`, "sh", benign]);
      assert.equal(sh.code, 0, sh.stderr);
      // The EICAR string, written by this test process, then copied by cp.
      const eicar = `${agent.scratch}/eicar.com`;
      await Deno.writeFile(eicar, new TextEncoder().encode(EICAR));
      const cp = await run("cp", [eicar, `${agent.scratch}/copy.com`]);
      assert.equal(cp.code, 0, cp.stderr);

      const deadline = Date.now() + 15_000;
      let mine: Threat[] = [];
      while (Date.now() < deadline) {
        const ids = (await agent.threats()).filter((t) => t.name === NAME).map((t) => t.id);
        mine = await Promise.all(
          ids.map((id) => agent.call("threat_get", { id }) as Promise<Threat>),
        );
        if (mine.some((t) => t.process.pid === cp.pid)) break;
        await sleep(100);
      }
      // By pid: cp can exit before its exec record is enriched from /proc (a counted
      // enrichment miss), and then its executable is not known by name.
      const byCp = mine.find((t) => t.process.pid === cp.pid);
      assert.ok(
        byCp,
        `no ${NAME} threat for cp; threats: ${JSON.stringify(mine.map((t) => t.process))}`,
      );
      assert.equal(byCp.status, "audited");
      assert.deepEqual(byCp.rule_ids, ["builtin.rtp_forward"]);
      assert.ok(
        byCp.score_path.length > 0,
        `score path explains the verdict: ${JSON.stringify(byCp.score_path)}`,
      );
      const ev = byCp.events.find((e) => e.event.action === "rtp_verdict");
      assert.equal(ev?.bm?.rtp_threat, `sha256:${EICAR_SHA}`);
      assert.equal((ev as { file?: { path: string } }).file?.path, `${agent.scratch}/copy.com`);
      assert.ok(
        mine.some((t) => t.process.pid === Deno.pid),
        "the test process that wrote the file is scored too",
      );
      assert.ok(
        !mine.some((t) => /\/(da|ba)?sh$/.test(t.process.executable)),
        "the shell that wrote a benign file is not",
      );

      const h = await agent.health();
      assert.ok((h.rtp_matches as number) >= 2, `rtp_matches ${h.rtp_matches}`);
      // The two 68-byte files are hashed; notes.txt and the binaries run are not (sizes).
      assert.ok((h.rtp_files_hashed as number) >= 2, `rtp_files_hashed ${h.rtp_files_hashed}`);
      assert.ok((h.rtp_size_filtered as number) >= 1, `rtp_size_filtered ${h.rtp_size_filtered}`);
      assert.equal(h.rtp_queue_dropped, 0);
      assert.equal(h.auth_answered_by_watchdog, 0);
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  }),
});

Deno.test({
  name: "e2e forwardRtpToBm, block mode: a flagged binary written then run crosses 100 " +
    "for its lineage; one exec is hashed once; the blocklist reloads, a bad one is refused",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    // A unique copy of `true` (trailing bytes do not matter to ELF), so no
    // other process on this machine runs a file with this hash.
    const trueBin = await Deno.readFile("/bin/true");
    const bin = new Uint8Array([
      ...trueBin,
      ...new TextEncoder().encode(`bm rtp e2e ${Deno.pid} ${Date.now()}`),
    ]);
    const sha = createHash("sha256").update(bin).digest("hex");
    const rules = await Deno.makeTempDir({ prefix: "bm_e2e_rtp_rules_", dir: "/tmp" });
    const blocklist = `${rules}/rtp_blocklist.txt`;
    await Deno.writeTextFile(blocklist, `# test\n${sha}\n`, { mode: 0o644 });
    const agent = await startAgent({
      mode: "block",
      toml: `[engine]\nrulesDir = "${rules}"\n`,
    });
    try {
      assert.equal((await agent.health()).rtp_blocklist_entries, 1);
      const path = `${agent.scratch}/flagged`;
      // Written by this test process (close_modified: hashed, +60), then run
      // by a child (held auth exec and notify exec of one exec: +60 once).
      await Deno.writeFile(path, bin, { mode: 0o755 });
      // The write is scored before the run: its close record (notification
      // queue) and the exec's held record (permission queue) are read from
      // separate fanotify groups, so an exec right after the write can be
      // scored first, and then the writer's own 60 is the firing that crosses.
      await agent.waitForHealth("rtp_matches", 1, 15_000); // the write's verdict
      assert.ok(
        !(await agent.threats()).some((t) => t.name === NAME),
        "60 for the write alone stays under 100",
      );
      const r = await run(path, []);
      assert.equal(r.code, 0, "report-only rule: the exec is not blocked");

      const t = await agent.waitThreat([NAME], ["active"], 15_000);
      const d = await agent.call("threat_get", { id: t.id }) as Threat;
      // The verdict is about the process that ran the file; the score that
      // crossed is its parent's (this test process): 60 for the write, 60
      // added up the lineage for the child's exec.
      assert.equal(d.process.executable, path);
      assert.ok(d.score >= 100, `score ${d.score}`);
      assert.deepEqual(
        d.score_path.map((x) => [x.entity_id.split("-")[0], x.rule_id, x.added]),
        [[String(Deno.pid), "builtin.rtp_forward", 60], [
          String(Deno.pid),
          "builtin.rtp_forward",
          60,
        ]],
      );

      const h = await agent.health();
      assert.equal(h.rtp_matches, 2, "write and exec, the exec counted once");
      // At least the exec's: the agent offers every exec on the machine (the proc connector is
      // system-wide), so other processes running cached binaries add hits on a busy machine.
      assert.ok(
        (h.rtp_cache_hits as number) >= 1,
        `the exec reused the hash of the write (hits ${h.rtp_cache_hits})`,
      );
      assert.equal(h.rtp_queue_dropped, 0);
      assert.equal(h.auth_answered_by_watchdog, 0);

      // A changed blocklist is picked up by the watcher's reload.
      await Deno.writeTextFile(blocklist, `# test\n${sha}\n${EICAR_SHA}\n`, { mode: 0o644 });
      await agent.waitForHealth("rtp_blocklist_entries", 2); // reloaded

      // A bad one is refused with file and line; the last good list stays.
      await Deno.writeTextFile(blocklist, `${sha}\nnot-a-hash\n`, { mode: 0o644 });
      const h2 = await agent.waitForHealth(
        "last_reload_result",
        (r: unknown) => String(r).startsWith("failed"),
      );
      assert.match(String(h2.last_reload_result), /failed: .*rtp_blocklist\.txt" line 2/);
      assert.equal(h2.rtp_blocklist_entries, 2, "last good blocklist kept");
    } finally {
      assert.equal(await agent.stop(), 0);
      await Deno.remove(rules, { recursive: true });
    }
  }),
});

Deno.test({
  name: "e2e forwardRtpToBm through the interest filter (no event export): a written file of a " +
    "listed size is hashed, one of another size is dropped in the sensor, a reloaded list's sizes apply",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    // Outside every path a pack rule watches (no rules are loaded here anyway): only RTP's size
    // gate lets a written file through, and only with the filter on (no raw event export).
    const outside = `/var/lib/bm_e2e_rtp_${Deno.pid}`;
    const rules = await Deno.makeTempDir({ prefix: "bm_e2e_rtp_rules_", dir: "/tmp" });
    const blocklist = `${rules}/rtp_blocklist.txt`;
    await Deno.writeTextFile(blocklist, `${EICAR_SHA} 68\n`, { mode: 0o644 });
    // a second flagged file of another size, listed only by the reload below
    const other = new TextEncoder().encode(`bm rtp e2e other ${Deno.pid} ${Date.now()}\n`);
    const otherSha = createHash("sha256").update(other).digest("hex");
    const agent = await startAgent({
      mode: "audit",
      rawEvents: false,
      extraMounts: [outside],
      toml: `[engine]\nrulesDir = "${rules}"\nscoreThreshold = 50\n`,
    });
    const hashedBy = async (pid: number): Promise<boolean> => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const ids = (await agent.threats()).filter((t) => t.name === NAME).map((t) => t.id);
        const mine = await Promise.all(
          ids.map((id) => agent.call("threat_get", { id }) as Promise<Threat>),
        );
        if (mine.some((t) => t.process.pid === pid)) return true;
        await sleep(100);
      }
      return false;
    };
    try {
      assert.equal((await agent.health()).rtp_blocklist_entries, 1);
      const src = `${agent.scratch}/eicar.src`;
      await Deno.writeFile(src, new TextEncoder().encode(EICAR));
      const otherSrc = `${agent.scratch}/other.src`;
      await Deno.writeFile(otherSrc, other);
      const filtered0 = (await agent.health()).events_filtered as number;
      const notes = await run("sh", [
        "-c",
        `printf 'just notes\\n' > "$1"`,
        "sh",
        `${outside}/n.txt`,
      ]);
      assert.equal(notes.code, 0, notes.stderr);
      const cp = await run("cp", [src, `${outside}/eicar.com`]);
      assert.equal(cp.code, 0, cp.stderr);
      assert.ok(await hashedBy(cp.pid), "the 68-byte file was hashed and scored");
      const h = await agent.health();
      assert.ok(
        (h.events_filtered as number) > filtered0,
        `the sensor dropped written files (events_filtered ${filtered0} -> ${h.events_filtered})`,
      );

      // The reload's list has the other file's size: the sensor lets it through from then on.
      await Deno.writeTextFile(blocklist, `${EICAR_SHA} 68\n${otherSha} ${other.length}\n`, {
        mode: 0o644,
      });
      await agent.waitForHealth("rtp_blocklist_entries", 2); // reloaded
      const cp2 = await run("cp", [otherSrc, `${outside}/other.bin`]);
      assert.equal(cp2.code, 0, cp2.stderr);
      assert.ok(await hashedBy(cp2.pid), "the file of the reloaded size was hashed and scored");
      assert.equal((await agent.health()).auth_answered_by_watchdog, 0);
    } finally {
      assert.equal(await agent.stop(), 0);
      await Deno.remove(rules, { recursive: true });
      await Deno.remove(outside).catch(() => {});
    }
  }),
});
