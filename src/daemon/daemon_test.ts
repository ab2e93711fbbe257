/**
 * `bm daemon --trace` as a child process: the composition root end to end on
 * the replay sensor (no root needed), seen through the CLI: health (live and
 * offline), threats, hot event sources, the ECS export, graceful stop.
 */
import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { decodeLine } from "../sensor/trace.ts";
import { DaemonThreatSource } from "./daemon_threat_source.ts";
import { selfCommand } from "./self_command.ts";
import { bm, privateEnv } from "./self_bm_test_utils.ts";

const repo = new URL("../../", import.meta.url).pathname;
const trace = `${repo}policies/tests/linux/bm_change_file_test.pos.jsonl`;
const self = selfCommand();

Deno.test({
  name: "daemon --trace: health, threats, hot sources, ECS export, graceful stop, offline health",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bm_daemon_" });
    const env = privateEnv(dir);
    const exportPath = `${dir}/events.jsonl`;
    await Deno.writeTextFile(
      env.BM_LOCAL_CONFIG,
      `[logging.eventExport]\nenabled = true\npath = "${exportPath}"\nrawEvents = true\n`,
    );
    // a managed value, to see the [managed] mark
    await Deno.writeTextFile(
      env.BM_MANAGED_CONFIG,
      JSON.stringify({
        features: { behaviorMonitoringConfigurations: { notifyForks: "enabled" } },
      }),
    );
    const daemon = new Deno.Command(self.cmd, {
      args: [...self.args, "daemon", "--trace", trace],
      env,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(daemon.stderr).text();
    try {
      let health: Record<string, unknown> | undefined;
      for (let i = 0; i < 150; i++) {
        const r = await bm(env, "health", "--output", "json");
        const h = JSON.parse(r.stdout || "{}") as { fields?: Record<string, unknown> };
        if (h.fields?.daemon_running && (h.fields.threats as Record<string, number>)?.active) {
          health = h.fields;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(health, "daemon never reported the threat");
      assert.equal(health.healthy, true);
      assert.equal(health.real_time_protection_subsystem, "replay");
      assert.equal(health.behavior_monitoring, "enabled");
      assert.deepEqual(health.threats, { active: 1 });
      assert.ok((health.events as number) > 0);
      assert.equal(health.auth_answered_by_watchdog, 0);

      const text = await bm(env, "health");
      assert.match(text.stdout, /^notify_forks\s+: "enabled" \[managed\]$/m);
      assert.match(text.stdout, /^block_execution\s+: "enabled"$/m);
      const field = await bm(env, "health", "--field", "real_time_protection_subsystem");
      assert.equal(field.stdout.trim(), `"replay"`);
      const badField = await bm(env, "health", "--field", "nope");
      assert.equal(badField.code, 2);
      assert.match(badField.stderr, /^Unknown health field "nope"/);
      const features = await bm(env, "health", "--details", "features", "--output", "json");
      assert.equal(JSON.parse(features.stdout).sources.notify_forks, "managed");

      const hot = JSON.parse(
        (await bm(env, "diagnostic", "hot-event-sources", "--output", "json")).stdout,
      );
      assert.ok(hot.total > 0);
      assert.equal(
        hot.sources[0].events,
        Math.max(...hot.sources.map((s: { events: number }) => s.events)),
      );

      const threats = await bm(env, "threats");
      assert.match(threats.stdout, /Behavior:Linux\/BmChangeFileTest/);

      // the socket-backed ThreatSource the threat CLI can use
      const src = new DaemonThreatSource({
        stateDir: env.BM_STATE_DIR,
        clock: systemClock,
        socket: `${env.BM_STATE_DIR}/bm.sock`,
      });
      try {
        const list = await src.list();
        assert.equal(list.length, 1);
        assert.equal((await src.get(list[0]!.id))?.name, "Behavior:Linux/BmChangeFileTest");
        assert.equal(await src.get("nope"), undefined);
        assert.equal(await src.addAllowed("Behavior:Linux/Other.A"), true);
        assert.deepEqual((await src.listAllowed()).map((a) => a.name), ["Behavior:Linux/Other.A"]);
        assert.equal(await src.removeAllowed("Behavior:Linux/Other.A"), true);
        assert.deepEqual(await src.listQuarantine(), []);
        await assert.rejects(src.restore("nope", {}), /Unknown threat or quarantine entry "nope"/);
      } finally {
        src.close();
      }
    } finally {
      daemon.kill("SIGTERM");
    }
    const st = await daemon.status;
    const log = await stderr;
    assert.equal(st.code, 0, log);
    assert.match(log, /"message":"bm daemon stopped"/);
    await assert.rejects(Deno.stat(`${env.BM_STATE_DIR}/bm.sock`), Deno.errors.NotFound);

    // the ECS export: one alert line, and raw events that are trace lines
    const lines = (await Deno.readTextFile(exportPath)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    // the threat (dataset bm.detection) and the firing that made it (bm.alert), which names it
    const alerts = lines.filter((l) => l.event.kind === "alert");
    assert.deepEqual(alerts.map((a) => a.event.dataset).sort(), ["bm.alert", "bm.detection"]);
    const detection = alerts.find((a) => a.event.dataset === "bm.detection");
    assert.equal(detection.rule.name, "Behavior:Linux/BmChangeFileTest");
    assert.equal(detection.event.module, "bm");
    assert.ok(detection.bm.threat_id);
    assert.deepEqual(detection.threat.technique.id, ["T1565.001"]);
    const alert = alerts.find((a) => a.event.dataset === "bm.alert");
    assert.equal(alert.rule.name, "Behavior:Linux/BmChangeFileTest");
    assert.equal(alert.bm.threat_id, detection.bm.threat_id);
    const raw = lines.filter((l) => l.event.kind === "event");
    assert.ok(raw.length > 0);
    for (const r of raw) assert.ok("event" in decodeLine(JSON.stringify(r)));

    // without the daemon: what it can, and that the daemon is not running
    const off = JSON.parse((await bm(env, "health", "--output", "json")).stdout).fields;
    assert.equal(off.daemon_running, false);
    assert.equal(off.healthy, false);
    assert.match(off.health_issues[0], /^daemon is not running/);
    assert.deepEqual(off.threats, { active: 1 });
    assert.equal(off.events, null);
    await Deno.remove(dir, { recursive: true });
  },
});
