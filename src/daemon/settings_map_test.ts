import { deepEqual, equal } from "node:assert/strict";
import { defaultSettings } from "../config/defaults.ts";
import { configPaths } from "../config/paths.ts";
import { DEFAULT_ENGINE_OPTIONS } from "../engine/engine.ts";
import { rule, rules, run } from "../engine/engine_test_utils.ts";
import { engineOptions } from "./settings_map.ts";

Deno.test("one source of engine defaults: replay and rule tests run with the daemon's numbers", () => {
  const daemon = engineOptions(defaultSettings(configPaths({ get: () => undefined })));
  const pick = (o: typeof daemon) => [
    o.threshold,
    o.halfLifeMs,
    o.processTableMax,
    o.exitedRetentionMs,
    o.exclusions,
    o.allowedThreats,
  ];
  deepEqual(pick(DEFAULT_ENGINE_OPTIONS), pick(daemon));
});

Deno.test("two score-60 rules 5 minutes apart: 90 with the default half-life, as in the daemon", () => {
  const step = (path: string) => `
[[rule.steps]]
action = "open"
where = [{ field = "file.path", eq = "${path}" }]
`;
  const set = rules(
    rule("a", "", 60) + step("/etc/shadow") + rule("b", "", 60) + step("/etc/gshadow"),
  );
  const ev = (t: number, path: string) => ({
    "@timestamp": t,
    event: { action: "open" as const },
    process: { pid: 10, parent: { pid: 1 } },
    file: { path },
  });
  const r = run(set, [ev(0, "/etc/shadow"), ev(300_000, "/etc/gshadow")]);
  equal(r.firings.at(-1)!.score, 90);
  equal(r.verdicts.length, 0);
});
