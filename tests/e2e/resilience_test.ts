/**
 * Invariants 1 and 4 end to end: a stalled engine does not hang any exec
 * (the native watchdog answers in time and counts it), and a broken config
 * or rule file is refused on reload while protection keeps running with the
 * last good set.
 */
import assert from "node:assert/strict";
import { canRunE2e, keepingLogs, run, sleep, startAgent, type TestAgent } from "./_harness.ts";
import { decodedPayload } from "./_scenarios.ts";

const repo = new URL("../../", import.meta.url).pathname;

Deno.test({
  name: "e2e stalled engine: execs complete through the watchdog, counted",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    // The daemon holds every batch with an auth event for 60 s; the watchdog
    // must answer at deadline - margin = 1 s.
    const agent = await startAgent({
      mode: "block",
      stallMs: 60_000,
      toml: "[sensor]\nauthDeadlineMs = 1500\ndeadlineMarginMs = 500\n",
    });
    try {
      const bin = `${agent.scratch}/true_copy`;
      await Deno.copyFile("/bin/true", bin);
      await Deno.chmod(bin, 0o755);
      for (let i = 0; i < 3; i++) {
        // hard limit 10 s; without the watchdog each exec would hang 60 s
        const r = await run(bin, [], { timeoutMs: 10_000 });
        assert.equal(r.timedOut, false, "exec hung while the engine was stalled");
        assert.equal(r.code, 0);
      }
      const h = await agent.health();
      assert.ok((h.auth_answered_by_watchdog as number) >= 1, JSON.stringify(h));
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  }),
});

async function waitReload(
  agent: TestAgent,
  after: string | undefined,
  timeoutMs = 10_000,
  until: (h: Record<string, unknown>) => boolean = () => true,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const h = await agent.health();
    if (h.last_reload !== undefined && h.last_reload !== after && until(h)) return h;
    await sleep(100);
  }
  throw new Error(`No reload within ${timeoutMs} ms\n${agent.log()}`);
}

/**
 * How the daemon's reload for `reason` ended, from its log: the message of
 * the first "Reloaded" or "Reload refused" line after the "Reloading" line
 * with that reason (reloads run one at a time).
 */
async function reloadOutcome(agent: TestAgent, reason: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const lines = (await Deno.readTextFile(`${agent.dir}/daemon.log`)).split("\n")
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as { message?: string; reason?: string }];
        } catch {
          return [];
        }
      });
    const start = lines.findIndex((l) => l.message === "Reloading" && l.reason === reason);
    const end = start < 0
      ? undefined
      : lines.slice(start + 1).find((l) =>
        l.message === "Reloaded" || l.message?.startsWith("Reload refused")
      );
    if (end?.message !== undefined) return end.message;
    await sleep(100);
  }
  throw new Error(`No end of the ${reason} reload within ${timeoutMs} ms\n${agent.log()}`);
}

Deno.test({
  name: "e2e reload: broken config or rule file refused, protection keeps running",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const rulesDir = await Deno.makeTempDir({ prefix: "bm_e2e_rules_" });
    const cp = await run("cp", ["-R", `${repo}policies/.`, rulesDir]);
    assert.equal(cp.code, 0, cp.stderr);
    await run("chmod", ["-R", "go-w", rulesDir]);
    const toml = `[engine]\nrulesDir = "${rulesDir}"\n`;
    const agent = await startAgent({ mode: "block", toml });
    try {
      const h0 = await agent.health();
      const rules = h0.rules_count as number;
      assert.ok(rules > 0);
      const good = await Deno.readTextFile(agent.env.BM_LOCAL_CONFIG!);

      // 1. a TOML syntax error: the watcher reloads, the reload is refused
      await Deno.writeTextFile(agent.env.BM_LOCAL_CONFIG!, good + "\n[sensor.marks\n");
      const h1 = await waitReload(agent, undefined);
      assert.match(String(h1.last_reload_result), /^failed: .*bm\.toml/);
      assert.equal(h1.behavior_monitoring, "enabled");
      assert.equal(h1.rules_count, rules);
      // protection still on: the decoded payload is still killed
      const o = await decodedPayload(agent, 8);
      assert.equal(o.effect, false, `protection lost after a broken config: ${o.detail}`);
      await agent.waitThreat(o.names, ["killed", "blocked"]);

      // the good file back: the watcher's reload succeeds
      await Deno.writeTextFile(agent.env.BM_LOCAL_CONFIG!, good);
      const hGood = await waitReload(agent, h1.last_reload as string);
      assert.equal(hGood.last_reload_result, "ok");

      // 2. a broken rule file: refused, rule count unchanged
      await Deno.writeTextFile(`${rulesDir}/linux/zz_broken.toml`, "[[rule]]\nid = 3\n", {
        mode: 0o644,
      });
      const r2 = await agent.call("reload") as { ok: boolean; errors: string[] };
      assert.equal(r2.ok, false);
      assert.ok(r2.errors.some((e) => e.includes("zz_broken.toml")), r2.errors.join("\n"));
      assert.equal((await agent.health()).rules_count, rules);
      await Deno.remove(`${rulesDir}/linux/zz_broken.toml`);

      // 3. a good config again (one setting changed), applied on SIGHUP. The
      // watcher's reload for step 2's rule file may still be running: it read
      // the config before this write and can end after `before` with the old
      // level. So: the reload that applied this file, and SIGHUP's own outcome.
      await Deno.writeTextFile(agent.env.BM_LOCAL_CONFIG!, good + '\n[logging]\nlevel = "debug"\n');
      const before = (await agent.health()).last_reload as string;
      await sleep(50); // last_reload has millisecond resolution; keep them apart
      agent.proc.kill("SIGHUP");
      const h3 = await waitReload(agent, before, 10_000, (h) => h.log_level === "debug");
      assert.equal(h3.last_reload_result, "ok");
      assert.equal(h3.rules_count, rules);
      assert.equal(await reloadOutcome(agent, "SIGHUP"), "Reloaded");

      // 4. blockExecution switched off: the sensor is reopened with the new
      // settings and the same behavior is now only audited
      const b4 = (await agent.health()).last_reload as string;
      await Deno.writeTextFile(
        agent.env.BM_LOCAL_CONFIG!,
        good.replace('blockExecution = "enabled"', 'blockExecution = "disabled"'),
      );
      const h4 = await waitReload(agent, b4, 10_000, (h) => h.block_execution === "disabled");
      assert.equal(h4.last_reload_result, "ok");
      assert.equal(h4.block_execution, "disabled");
      assert.equal(h4.behavior_monitoring, "enabled");
      const o4 = await decodedPayload(agent, 1);
      assert.equal(o4.effect, true, `blocked after switching to audit: ${o4.detail}`);
      await agent.waitThreat(o4.names, ["audited"]);
    } finally {
      assert.equal(await agent.stop(), 0);
      await Deno.remove(rulesDir, { recursive: true });
    }
  }),
});
