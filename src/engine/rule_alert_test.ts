import { deepEqual, equal, ok } from "node:assert/strict";
import { ev, rule, rules } from "./engine_test_utils.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "./engine.ts";
import { FakeClock } from "../clock_test_utils.ts";
import type { BmEvent } from "../sensor/event.ts";
import type { RuleAlert } from "./rule_alert.ts";
import type { Verdict } from "./verdict.ts";
import { MAX_ALERT_EVENTS } from "./rule_alert.ts";

const CRON = rule("cron", `techniques = ["T1053.003"]\ntactics = ["TA0003"]`, 60) + `
[[rule.steps]]
action = "close_modified"
where = [{ field = "file.path", glob = "/etc/cron.d/*" }]
`;

const EXEC_TMP = rule("exec_tmp", "", 60) + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.executable", glob = "/tmp/*" }]
`;

function replay(toml: string, events: BmEvent[]) {
  const engine = new Engine(rules(toml), { ...DEFAULT_ENGINE_OPTIONS }, new FakeClock(0));
  const alerts: RuleAlert[] = [];
  const verdicts: Verdict[] = [];
  for (const e of events) {
    const out = engine.process(e);
    alerts.push(...out.alerts);
    verdicts.push(...out.verdicts);
  }
  return { alerts, verdicts };
}

const shell = [
  ev(1, "exec", { pid: 10, executable: "/bin/bash", args: ["bash"], parent: { pid: 1 } }, {
    user: { id: 0 },
  }),
  ev(2, "fork", { pid: 11, parent: { pid: 10 } }),
  ev(3, "exec", { pid: 11, executable: "/bin/sh", args: ["sh", "install.sh"] }),
];

Deno.test("engine alerts: a firing under the threshold is reported as an alert, with no verdict", () => {
  const write = ev(4, "close_modified", { pid: 11 }, { file: { path: "/etc/cron.d/job" } });
  const r = replay(CRON, [...shell, write]);
  equal(r.verdicts.length, 0);
  equal(r.alerts.length, 1);
  const a = r.alerts[0]!;
  equal(a.rule_id, "cron");
  equal(a.name, "Behavior:Linux/cron.A");
  equal(a.severity, "high");
  equal(a.score, 60);
  deepEqual(a.techniques, ["T1053.003"]);
  deepEqual(a.tactics, ["TA0003"]);
  equal(a.time, 4);
  equal(a.process.pid, 11);
  equal(a.process.executable, "/bin/sh");
  deepEqual(a.process.args, ["sh", "install.sh"]);
  deepEqual(a.process.user, { id: 0 });
  deepEqual(a.lineage.map((l) => l.pid), [1, 10, 11]);
  deepEqual(a.events, [write]);
});

Deno.test("engine alerts: every firing is one, also the one that crosses the threshold", () => {
  const r = replay(CRON + EXEC_TMP, [
    ...shell,
    ev(4, "close_modified", { pid: 11 }, { file: { path: "/etc/cron.d/job" } }),
    ev(5, "exec", { pid: 11, executable: "/tmp/payload", args: ["/tmp/payload"] }),
  ]);
  deepEqual(r.alerts.map((a) => a.rule_id), ["cron", "exec_tmp"]);
  equal(r.verdicts.length, 1);
  deepEqual(r.verdicts[0]!.rule_ids, ["cron", "exec_tmp"]);
});

Deno.test("engine alerts: the same events give the same alerts (invariant 3)", () => {
  const events = [
    ...shell,
    ev(4, "close_modified", { pid: 11 }, { file: { path: "/etc/cron.d/a" } }),
    ev(5, "exec", { pid: 11, executable: "/tmp/x", args: ["/tmp/x"] }),
  ];
  deepEqual(replay(CRON + EXEC_TMP, events).alerts, replay(CRON + EXEC_TMP, events).alerts);
});

Deno.test("engine alerts: a burst's evidence is bounded", () => {
  const burst = rule("burst", "", 10) + `
[[rule.steps]]
action = "create"
count = 100
where = [{ field = "file.path", glob = "/data/**" }]
`;
  const creates = Array.from(
    { length: 100 },
    (_, i) => ev(10 + i, "create", { pid: 11 }, { file: { path: `/data/f${i}` } }),
  );
  const r = replay(burst, [...shell, ...creates]);
  equal(r.alerts.length, 1);
  equal(r.alerts[0]!.events.length, MAX_ALERT_EVENTS);
  equal(r.alerts[0]!.events[0], creates[0]);
  equal(r.alerts[0]!.events[MAX_ALERT_EVENTS - 1], creates[99]);
  ok(r.verdicts.length === 0);
});
