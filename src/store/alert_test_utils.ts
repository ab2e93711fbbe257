/** A realistic stored-alert input for tests of the store, the alert writer and the CLI. */
import type { NewAlert } from "./alert.ts";

export function sampleAlert(overrides: Partial<NewAlert> = {}): NewAlert {
  const t = 1_790_000_000_000;
  return {
    rule_id: "linux.cron_write",
    name: "Behavior:Linux/CronPersistence.A",
    severity: "medium",
    score: 60,
    techniques: ["T1053.003"],
    tactics: ["TA0003"],
    time: t + 2000,
    process: {
      entity_id: "4242-" + (t + 1500),
      pid: 4242,
      start: t + 1500,
      executable: "/bin/sh",
      args: ["sh", "/tmp/x/install.sh"],
      user: { id: 0 },
    },
    lineage: [
      { entity_id: "4000-" + t, pid: 4000, start: t, executable: "/bin/bash", args: ["bash"] },
      {
        entity_id: "4242-" + (t + 1500),
        pid: 4242,
        start: t + 1500,
        executable: "/bin/sh",
        args: ["sh", "/tmp/x/install.sh"],
        uid: 0,
      },
    ],
    events: [{
      "@timestamp": t + 2000,
      event: { action: "close_modified" },
      process: { pid: 4242 },
      file: { path: "/etc/cron.d/backdoor" },
    }],
    ...overrides,
  };
}
