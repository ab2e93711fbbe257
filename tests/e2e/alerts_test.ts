/**
 * Alerts, end to end: a real daemon (real sensor, marks confined to the test
 * tmpfs, rules confined to this test's processes) running a rule pack the
 * test loads: a cron.d-style file written by a shell script scores 60, under
 * the threshold. It is no threat, but it is an alert: in `bm alert list`, in
 * the ECS export and in `bm health`, with `bm threats` unchanged. Root only.
 */
import assert from "node:assert/strict";
import { canRunE2e, keepingLogs, run, script, startAgent } from "./_harness.ts";

const RULE = `
[[rule]]
id = "e2e.cron_like_write"
name = "Behavior:Linux/E2eCronLikeWrite.A"
description = "A cron.d-style file is written in the e2e scratch mount"
platforms = ["linux"]
severity = "medium"
score = 60
techniques = ["T1053.003"]
tactics = ["TA0003"]
actions = [{ type = "report" }]
tests = { positive = ["none.pos.jsonl"], negative = ["none.neg.jsonl"] }

[[rule.steps]]
action = ["close_modified", "create"]
where = [{ field = "file.path", glob = "/tmp/bm_e2e_*/t/cron.d/*" }]
`;

Deno.test({
  name:
    "e2e alerts: a sub-threshold cron.d-style write is an alert (list, export, health), not a threat",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const rules = await Deno.makeTempDir({ prefix: "bm_e2e_rules_" });
    await Deno.writeTextFile(`${rules}/e2e.toml`, RULE, { mode: 0o644 });
    const agent = await startAgent({ mode: "block", toml: `[engine]\nrulesDir = "${rules}"\n` });
    try {
      const h0 = await agent.health();
      assert.deepEqual(h0.alerts, { low: 0, medium: 0, high: 0, critical: 0 });
      const path = `${agent.scratch}/install.sh`;
      await script(
        agent,
        "install.sh",
        `mkdir -p "${agent.scratch}/cron.d" && printf '* * * * * root /tmp/x\\n' > "${agent.scratch}/cron.d/backdoor"`,
      );
      const r = await run(path, [], { timeoutMs: 15_000 });
      assert.equal(r.code, 0, r.stderr);

      const alerts = await agent.waitFor(
        "an alert in bm alert list",
        async () =>
          JSON.parse(await agent.bm("alert", "list", "--output", "json")).alerts as {
            id: string;
            rule_id: string;
            process: { pid: number };
            threat_id: null;
          }[],
        (a) => a.length > 0,
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      assert.equal(alerts.length, 1, JSON.stringify(alerts));
      const a = alerts[0]!;
      assert.equal(a.rule_id, "e2e.cron_like_write");
      assert.equal(a.process.pid, r.pid, "the script's shell wrote the file");
      assert.equal(a.threat_id, null);
      const shown = await agent.bm("alert", "show", a.id);
      assert.match(shown, new RegExp(`file ${agent.scratch}/cron\\.d/backdoor`));

      // bm threats unchanged: nothing crossed the threshold.
      assert.deepEqual(await agent.threats(), []);
      assert.deepEqual(JSON.parse(await agent.bm("threats", "--output", "json")), {
        threats: [],
      });
      const h = await agent.health();
      assert.deepEqual(h.alerts, { low: 0, medium: 1, high: 0, critical: 0 });
      assert.equal(h.alerts_suppressed, 0);

      // The ECS export: the alert line, and no detection line.
      const dir = `${agent.dir}/state`;
      const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".jsonl"));
      assert.ok(file, "no event export");
      const lines = Deno.readTextFileSync(`${dir}/${file.name}`).split("\n").filter((l) => l)
        .map((l) => JSON.parse(l));
      const doc = lines.find((l) => l.event.dataset === "bm.alert");
      assert.ok(doc, "no alert line in the export");
      assert.equal(doc.event.kind, "alert");
      assert.equal(doc.rule.id, "e2e.cron_like_write");
      assert.equal(doc.rule.name, "Behavior:Linux/E2eCronLikeWrite.A");
      assert.equal(doc.event.severity, 47);
      assert.deepEqual(doc.threat.technique.id, ["T1053.003"]);
      assert.equal(doc.bm.alert_id, a.id);
      assert.equal(lines.filter((l) => l.event.dataset === "bm.detection").length, 0);
    } finally {
      assert.equal(await agent.stop(), 0);
      await Deno.remove(rules, { recursive: true });
    }
  }),
});
