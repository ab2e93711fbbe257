/** A realistic Verdict for tests of the store, the responder and the CLI. */
import type { Verdict } from "../engine/verdict.ts";

export function sampleVerdict(overrides: Partial<Verdict> = {}): Verdict {
  const t = 1_790_000_000_000;
  return {
    name: "Behavior:Linux/DownloadExec.A",
    rule_ids: ["linux.download_then_exec", "linux.exec_from_tmp"],
    severity: "high",
    techniques: ["T1105", "T1059.004"],
    tactics: ["TA0011", "TA0002"],
    score: 120,
    threshold: 100,
    time: t + 2000,
    mode: "block",
    process: {
      pid: 4242,
      entity_id: "4242-" + (t + 1500),
      executable: "/tmp/payload",
      args: ["/tmp/payload", "--run"],
      start: t + 1500,
    },
    lineage: [
      { entity_id: "1-0", pid: 1, start: 0, executable: "/sbin/init", args: ["/sbin/init"] },
      {
        entity_id: "4000-" + t,
        pid: 4000,
        start: t,
        executable: "/bin/bash",
        args: ["bash"],
        uid: 1000,
      },
      {
        entity_id: "4242-" + (t + 1500),
        pid: 4242,
        start: t + 1500,
        executable: "/tmp/payload",
        args: ["/tmp/payload", "--run"],
        uid: 1000,
      },
    ],
    hits: [
      {
        rule_id: "linux.download_then_exec",
        name: "Behavior:Linux/DownloadExec.A",
        score: 70,
        time: t + 1400,
        entity_id: "4000-" + t,
        event_indexes: [0],
      },
      {
        rule_id: "linux.exec_from_tmp",
        name: "Behavior:Linux/DownloadExec.A",
        score: 50,
        time: t + 2000,
        entity_id: "4242-" + (t + 1500),
        event_indexes: [1],
      },
    ],
    score_path: [
      {
        time: t + 1400,
        entity_id: "4000-" + t,
        rule_id: "linux.download_then_exec",
        before: 0,
        added: 70,
        after: 70,
      },
      {
        time: t + 2000,
        entity_id: "4242-" + (t + 1500),
        rule_id: "linux.exec_from_tmp",
        before: 70,
        added: 50,
        after: 120,
      },
    ],
    events: [
      {
        "@timestamp": t + 1400,
        event: { action: "create" },
        process: { pid: 4000, entity_id: "4000-" + t, executable: "/bin/bash" },
        file: { path: "/tmp/payload", mode: 0o755 },
      },
      {
        "@timestamp": t + 2000,
        event: { action: "exec" },
        process: {
          pid: 4242,
          entity_id: "4242-" + (t + 1500),
          executable: "/tmp/payload",
          args: ["/tmp/payload", "--run"],
          parent: { pid: 4000, entity_id: "4000-" + t },
        },
      },
    ],
    actions: [
      { type: "kill", pid: 4242, start: t + 1500, entity_id: "4242-" + (t + 1500), tree: true },
      { type: "quarantine", path: "/tmp/payload", entity_id: "4242-" + (t + 1500) },
      { type: "report" },
    ],
    ...overrides,
  };
}
