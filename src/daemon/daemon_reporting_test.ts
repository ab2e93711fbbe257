/**
 * `bm daemon --trace` as a child process (no root needed): alerts for
 * firings under the threshold, and at-least-once reporting of a threat the
 * daemon committed and was killed before reporting.
 */
import assert from "node:assert/strict";
import { FakeClock } from "../clock_test_utils.ts";
import { threatDbPath } from "../store/state_dir.ts";
import { SqliteThreatStore } from "../store/threat_store.ts";
import { selfCommand } from "./self_command.ts";
import { bm, privateEnv } from "./self_bm_test_utils.ts";

const repo = new URL("../../", import.meta.url).pathname;
const self = selfCommand();

/** The fields of an ECS export line these tests read. */
interface ExportLine {
  event: { kind: string; dataset: string; severity: number };
  rule: { id: string; name: string };
  threat: { technique: { id: string[] } };
  bm: { threat_id?: string; alert_id?: string };
}

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "bm_daemon_rep_" });
  const env = privateEnv(dir);
  const exportPath = `${dir}/events.jsonl`;
  await Deno.writeTextFile(
    env.BM_LOCAL_CONFIG,
    `[logging]\nfile = "${dir}/daemon.log"\n[logging.eventExport]\nenabled = true\npath = "${exportPath}"\n`,
  );
  const exported = (): ExportLine[] => {
    try {
      return Deno.readTextFileSync(exportPath).split("\n").filter((l) => l).map((l) =>
        JSON.parse(l)
      );
    } catch {
      return [];
    }
  };
  const log = () => {
    try {
      return Deno.readTextFileSync(`${dir}/daemon.log`);
    } catch {
      return "";
    }
  };
  const start = (trace: string, extraEnv: Record<string, string> = {}) =>
    new Deno.Command(self.cmd, {
      args: [...self.args, "daemon", "--trace", trace],
      env: { ...env, ...extraEnv },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  return { dir, env, exported, log, start };
}

async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function stop(p: Deno.ChildProcess, signal: Deno.Signal): Promise<Deno.CommandStatus> {
  try {
    p.kill(signal);
  } catch { /* gone */ }
  const timer = setTimeout(() => {
    try {
      p.kill("SIGKILL");
    } catch { /* gone */ }
  }, 15_000);
  const st = await p.status;
  clearTimeout(timer);
  return st;
}

Deno.test({
  name:
    "daemon --trace: a firing under the threshold is an alert in bm alert list, the export and health; bm threats stays empty",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = await setup();
    const daemon = s.start(`${repo}policies/tests/linux/cron_file_write.pos.jsonl`);
    try {
      const alerts = await until("the alert", async () => {
        const r = await bm(s.env, "alert", "list", "--output", "json");
        const list = r.code === 0 ? JSON.parse(r.stdout).alerts : [];
        return list.length > 0 ? list : undefined;
      });
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0].rule_id, "linux.cron_file_write");
      assert.equal(alerts[0].severity, "medium");
      assert.equal(alerts[0].threat_id, null);
      const show = await bm(s.env, "alert", "show", alerts[0].id);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /close_modified|create/);
      assert.match(show.stdout, /\/etc\/cron\.d\/sys-update/);
      const threats = await bm(s.env, "threats", "--output", "json");
      assert.deepEqual(JSON.parse(threats.stdout), { threats: [] });
      const h = JSON.parse((await bm(s.env, "health", "--output", "json")).stdout).fields;
      assert.deepEqual(h.alerts, { low: 0, medium: 1, high: 0, critical: 0 });
      assert.equal(h.alerts_suppressed, 0);
      const doc = await until(
        "the exported alert",
        () => s.exported().find((l) => l.event.dataset === "bm.alert"),
      );
      assert.equal(doc.event.kind, "alert");
      assert.equal(doc.rule.id, "linux.cron_file_write");
      assert.equal(doc.rule.name, "Behavior:Linux/CronFileWrite.A");
      assert.equal(doc.event.severity, 47);
      assert.deepEqual(doc.threat.technique.id, ["T1053.003"]);
      assert.equal(doc.bm.alert_id, alerts[0].id);
      assert.equal(s.exported().filter((l) => l.event.dataset === "bm.detection").length, 0);
    } finally {
      assert.equal((await stop(daemon, "SIGTERM")).code, 0, s.log());
      await Deno.remove(s.dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "daemon --trace: a threat committed but not exported when the daemon is killed -9 is exported at the next start",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = await setup();
    const trace = `${repo}policies/tests/linux/bm_change_file_test.pos.jsonl`;
    // The daemon waits a minute between the threat's commit and its log and export lines.
    const first = s.start(trace, { BM_DEBUG_STALL_AFTER_COMMIT_MS: "60000" });
    let second: Deno.ChildProcess | undefined;
    try {
      const id = await until("the committed threat", () => {
        try {
          const store = new SqliteThreatStore({
            path: threatDbPath(s.env.BM_STATE_DIR),
            clock: new FakeClock(0),
            readOnly: true,
          });
          try {
            return store.list()[0]?.id;
          } finally {
            store.close();
          }
        } catch {
          return undefined; // not created or not migrated yet
        }
      });
      await until(
        "the stall",
        () => s.log().includes("Debug stall: threat committed") || undefined,
      );
      const st = await stop(first, "SIGKILL");
      assert.equal(st.signal, "SIGKILL");
      const detections = () =>
        s.exported().filter((l) => l.event.dataset === "bm.detection" && l.bm.threat_id === id);
      assert.equal(detections().length, 0, "killed before the export line was written");

      await Deno.writeTextFile(`${s.dir}/empty.jsonl`, "");
      second = s.start(`${s.dir}/empty.jsonl`);
      const doc = await until("the late export", () => detections()[0]);
      assert.equal(doc.rule.name, "Behavior:Linux/BmChangeFileTest");
      assert.equal(doc.event.kind, "alert");
      assert.match(s.log(), /Threat detected \(reported after a restart\)/);
      const threats = JSON.parse((await bm(s.env, "threats", "--output", "json")).stdout).threats;
      assert.deepEqual(threats.map((t: { id: string }) => t.id), [id]);
      assert.equal((await stop(second, "SIGTERM")).code, 0, s.log());
      second = undefined;
      assert.equal(detections().length, 1, "reported once");
    } finally {
      await stop(first, "SIGKILL");
      if (second) await stop(second, "SIGKILL");
      await Deno.remove(s.dir, { recursive: true });
    }
  },
});
