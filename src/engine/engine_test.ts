import { deepEqual, equal, match, ok } from "node:assert/strict";
import { ev, problemsOf, rule, rules, run } from "./engine_test_utils.ts";
import type { BmEvent } from "../sensor/event.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "./engine.ts";
import { FakeClock } from "../clock_test_utils.ts";
import { NEED_ARGS, NEED_CWD } from "./conditions.ts";

const P = (pid: number, exe: string, args: string[] = [exe]) => ({ pid, executable: exe, args });

/** init(1) -> bash(10) -> {curl(11), sh(12) -> python(13)}, plus an unrelated bash(20) -> sh(21). */
function tree(t = 0): BmEvent[] {
  return [
    ev(t + 1, "exec", { ...P(10, "/bin/bash"), parent: { pid: 1 } }),
    ev(t + 2, "fork", { pid: 11, parent: { pid: 10 } }),
    ev(t + 3, "fork", { pid: 12, parent: { pid: 10 } }),
    ev(t + 4, "exec", { pid: 11, executable: "/usr/bin/curl", args: ["curl", "http://x"] }),
    ev(t + 5, "exec", { pid: 12, executable: "/bin/sh", args: ["sh"] }),
    ev(t + 6, "fork", { pid: 13, parent: { pid: 12 } }),
    ev(t + 7, "exec", { pid: 13, executable: "/usr/bin/python3", args: ["python3"] }),
    ev(t + 8, "exec", { ...P(20, "/bin/bash"), parent: { pid: 1 } }),
    ev(t + 9, "fork", { pid: 21, parent: { pid: 20 } }),
    ev(t + 10, "exec", { pid: 21, executable: "/bin/sh", args: ["sh"] }),
  ];
}

function seqRule(relation: string, first: string, second: string, extra = ""): string {
  return rule("seq", extra) + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "${first}" }]

[[rule.steps]]
action = ["exec", "open"]
relation = "${relation}"
where = [{ field = "process.name", eq = "${second}" }]
`;
}

const relationCases: [string, string, string, BmEvent[], boolean][] = [
  ["same", "curl", "curl", [ev(20, "open", { pid: 11 }, { file: { path: "/x" } })], true],
  ["same: other process", "curl", "sh", [], false],
  ["child", "bash", "sh", [], true],
  ["child: grandchild is not a child", "bash", "python3", [], false],
  ["descendant", "bash", "python3", [], true],
  ["descendant: not across trees", "sh", "sh", [], false],
  ["sibling", "curl", "sh", [], true],
  ["sibling: not a cousin", "curl", "python3", [], false],
  ["lineage: descendant", "bash", "python3", [], true],
  [
    "lineage: ancestor acts later",
    "python3",
    "bash",
    [ev(20, "open", { pid: 10 }, { file: { path: "/x" } })],
    true,
  ],
  [
    "lineage: unrelated",
    "python3",
    "bash",
    [ev(20, "open", { pid: 20 }, { file: { path: "/x" } })],
    false,
  ],
];

for (const [name, first, second, more, want] of relationCases) {
  Deno.test(`sequence relation ${name}`, () => {
    const relation = name.split(":")[0]!;
    const r = run(rules(seqRule(relation, first, second)), [...tree(), ...more]);
    equal(r.fired.includes("seq"), want);
  });
}

Deno.test("sequence: maxspan expiry", () => {
  const set = rules(seqRule("same", "curl", "curl", `maxspan = "10s"`));
  const late = ev(10_005, "open", { pid: 11 }, { file: { path: "/x" } });
  deepEqual(run(set, [...tree(), late]).fired, []);
  const inTime = ev(9_000, "open", { pid: 11 }, { file: { path: "/x" } });
  deepEqual(run(set, [...tree(), inTime]).fired, ["seq"]);
  ok(run(set, [...tree(), late]).engine.stats().partialsExpired >= 1);
});

const WRITE_EXEC = rule("wx", `actions = [{ type = "block" }, { type = "quarantine", step = 1 }]`) +
  `
[[rule.steps]]
action = "close_modified"
where = [{ field = "file.path", starts_with = "/tmp/" }]

[[rule.steps]]
action = "exec"
relation = "descendant"
where = [{ field = "process.executable", eq = { step = 1, field = "file.path" } }]
`;

Deno.test("sequence: cross-step field reference", () => {
  const set = rules(WRITE_EXEC);
  const base = [
    ev(1, "exec", { ...P(10, "/bin/bash"), parent: { pid: 1 } }),
    ev(2, "close_modified", { pid: 10 }, { file: { path: "/tmp/a" } }),
    ev(3, "close_modified", { pid: 10 }, { file: { path: "/tmp/b" } }),
    ev(4, "fork", { pid: 11, parent: { pid: 10 } }),
  ];
  const runB = run(set, [...base, ev(5, "exec", P(11, "/tmp/b"))]);
  deepEqual(runB.fired, ["wx"]);
  const v = runB.verdicts[0]!;
  deepEqual(v.actions, [
    { type: "report" },
    { type: "kill", pid: 11, start: 4, entity_id: "11-4", tree: false },
    { type: "quarantine", path: "/tmp/b", entity_id: "10-1" },
  ]);
  deepEqual(run(set, [...base, ev(5, "exec", P(11, "/tmp/c"))]).fired, []);
});

Deno.test("sequence: a step's relation can name an earlier step with `of`", () => {
  const set = rules(
    rule("of3") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "bash" }]
[[rule.steps]]
action = "exec"
relation = "child"
where = [{ field = "process.name", eq = "curl" }]
[[rule.steps]]
action = "exec"
relation = "child"
of = 1
where = [{ field = "process.name", eq = "sh" }]
`,
  );
  deepEqual(run(set, tree()).fired, ["of3"]);
});

const BURST = (
  extra: string,
  where = `{ field = "process.name", in = ["id", "uname", "hostname", "whoami"] }`,
) =>
  rule("burst", `maxspan = "10s"`, 40) + `
[[rule.steps]]
action = "exec"
where = [${where}]
${extra}
`;

function children(names: string[], t0 = 100, gap = 100, parent = 10): BmEvent[] {
  const out: BmEvent[] = [ev(1, "exec", { ...P(parent, "/bin/sh"), parent: { pid: 1 } })];
  names.forEach((n, i) => {
    const pid = parent * 100 + i;
    out.push(ev(t0 + i * gap, "fork", { pid, parent: { pid: parent } }));
    out.push(ev(t0 + i * gap + 1, "exec", P(pid, `/usr/bin/${n}`)));
  });
  return out;
}

Deno.test("count: group by parent, distinct values", () => {
  const set = rules(BURST(`count = 3\ndistinct = "process.name"\ngroup = "parent"`));
  deepEqual(run(set, children(["id", "uname", "hostname"])).fired, ["burst"]);
  deepEqual(run(set, children(["id", "id", "uname", "uname"])).fired, [], "only 2 distinct");
  deepEqual(
    run(set, children(["id", "uname", "hostname"], 100, 6000)).fired,
    [],
    "spread over more than maxspan",
  );
});

Deno.test("count: group by parent, events", () => {
  const set = rules(BURST(`count = 4\ngroup = "parent"`));
  deepEqual(run(set, children(["id", "id", "id", "id"])).fired, ["burst"]);
  deepEqual(run(set, children(["id", "id", "id"])).fired, []);
});

Deno.test("count: per entity (default group), fires once per process", () => {
  const set = rules(
    BURST(`count = 3`, `{ field = "file.path", starts_with = "/home/" }`).replace(
      'action = "exec"',
      'action = "rename"',
    ),
  );
  const evs = [ev(1, "exec", { ...P(10, "/usr/bin/enc"), parent: { pid: 1 } })];
  for (let i = 0; i < 7; i++) {
    evs.push(
      ev(10 + i, "rename", { pid: 10 }, {
        file: { path: `/home/u/f${i}`, target_path: `/home/u/f${i}.x` },
      }),
    );
  }
  deepEqual(run(set, evs).fired, ["burst"]);
  const spread = [evs[0]!, evs[1]!, evs[2]!, { ...evs[3]!, "@timestamp": 20_000 }];
  deepEqual(run(set, spread).fired, []);
});

Deno.test("count on a later step", () => {
  const set = rules(
    rule("later", `maxspan = "1m"`) + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "sh" }]
[[rule.steps]]
action = "exec"
relation = "child"
count = 2
distinct = "process.name"
where = [{ field = "process.name", in = ["id", "uname", "hostname"] }]
`,
  );
  deepEqual(run(set, children(["id", "uname"])).fired, ["later"]);
  deepEqual(run(set, children(["id", "id"])).fired, []);
});

const SIXTY = rule("sixty", "", 60) + `
[[rule.steps]]
action = "open"
where = [{ field = "file.path", eq = "/etc/shadow" }]
`;
const SIXTY_B = rule("sixty_b", "", 60) + `
[[rule.steps]]
action = "open"
where = [{ field = "file.path", eq = "/etc/gshadow" }]
`;

Deno.test("decay: half-life halves a score; no verdict when the sum stays below", () => {
  const set = rules(SIXTY + SIXTY_B);
  const evs = [
    ev(0, "exec", { ...P(10, "/tmp/x"), parent: { pid: 1 } }),
    ev(0, "open", { pid: 10 }, { file: { path: "/etc/shadow" } }),
    ev(60_000, "open", { pid: 10 }, { file: { path: "/etc/gshadow" } }),
  ];
  const r = run(set, evs, { halfLifeMs: 60_000 });
  deepEqual(r.fired, ["sixty", "sixty_b"]);
  equal(r.verdicts.length, 0);
  equal(r.firings.at(-1)!.score, 90); // 60 / 2 + 60
  // Two half-lives later the score has decayed to a quarter.
  const r2 = run(set, [...evs.slice(0, 2), { ...evs[2]!, "@timestamp": 120_000 }], {
    halfLifeMs: 60_000,
  });
  equal(r2.firings.at(-1)!.score, 75);
});

Deno.test("threshold crossing by accumulation across a lineage", () => {
  const set = rules(SIXTY + SIXTY_B);
  const evs = [
    ...tree(),
    ev(20, "open", { pid: 11 }, { file: { path: "/etc/shadow" } }),
    ev(30, "open", { pid: 13 }, { file: { path: "/etc/gshadow" } }),
  ];
  const r = run(set, evs, { halfLifeMs: 0 });
  equal(r.verdicts.length, 1);
  const v = r.verdicts[0]!;
  // bash (10), the common ancestor, crossed; the verdict is about the process the rule matched.
  equal(v.process.pid, 13, "the firing rule's process, not the ancestor that crossed");
  equal(v.name, "Behavior:Linux/sixtyb.A");
  deepEqual(v.rule_ids, ["sixty", "sixty_b"]);
  deepEqual(v.lineage.map((l) => l.pid), [1, 10, 12, 13], "root first, verdict's process last");
  deepEqual(v.score_path.map((s) => [s.rule_id, s.entity_id, s.before, s.after]), [
    ["sixty", "10-1", 0, 60],
    ["sixty_b", "10-1", 60, 120],
  ]);
  equal(v.events.length, 2);
  deepEqual(v.hits.map((h) => h.event_indexes), [[0], [1]]);
  equal(v.score, 120);
  // pid 1 never collects scores: a rule firing on it later starts from 0, not 120.
  const r3 = run(set, [...evs, ev(40, "open", { pid: 1 }, { file: { path: "/etc/shadow" } })], {
    halfLifeMs: 0,
  });
  deepEqual(r3.firings.map((f) => [f.entityId.split("-")[0], f.score]), [
    ["11", 60],
    ["13", 60],
    ["1", 60],
  ]);
});

Deno.test("a rule at the threshold gives a verdict on its own, once per process", () => {
  const set = rules(
    rule("full") + `
[[rule.steps]]
action = "open"
where = [{ field = "file.path", eq = "/etc/shadow" }]
`,
  );
  const evs = [
    ...tree(),
    ev(20, "open", { pid: 13 }, { file: { path: "/etc/shadow" } }),
    ev(21, "open", { pid: 13 }, { file: { path: "/etc/shadow" } }),
  ];
  const r = run(set, evs);
  equal(r.verdicts.length, 1);
  equal(r.verdicts[0]!.process.pid, 13);
  deepEqual(r.verdicts[0]!.lineage.map((l) => l.pid), [1, 10, 12, 13]);
  deepEqual(r.fired, ["full"]);
});

Deno.test("an ancestor whose decayed score crosses again: verdict and kill name the firing rule's process", () => {
  const kill = rule("sixty_k", `actions = [{ type = "kill" }]`, 60) + `
[[rule.steps]]
action = "open"
where = [{ field = "file.path", eq = "/etc/gshadow" }]
`;
  const evs = [
    ...tree(),
    // A first scenario: bash (10) collects 60 + 60 and crosses (that verdict is curl's, pid 11).
    ev(20, "open", { pid: 11 }, { file: { path: "/etc/shadow" } }),
    ev(30, "open", { pid: 11 }, { file: { path: "/etc/gshadow" } }),
    // A half-life later bash has decayed to 60; one 60-point firing in python (13) carries
    // bash over again. python's own score (60) stays below.
    ev(60_030, "open", { pid: 13 }, { file: { path: "/etc/gshadow" } }),
  ];
  const r = run(rules(SIXTY + kill), evs, { halfLifeMs: 60_000 });
  deepEqual(r.verdicts.map((v) => v.process.pid), [11, 13], "one verdict per crossing firing");
  const v = r.verdicts[1]!;
  deepEqual(v.lineage.map((l) => l.pid), [1, 10, 12, 13]);
  ok(v.score >= 100 && v.score_path.at(-1)!.entity_id === "10-1", "bash's score explains it");
  deepEqual(v.actions, [{ type: "report" }, {
    type: "kill",
    pid: 13,
    start: 6,
    entity_id: "13-6",
    tree: false,
  }]);
  ok(
    r.verdicts.every((x) => x.actions.every((a) => a.type !== "kill" || a.pid !== 10)),
    "the ancestor is never a kill target",
  );
});

Deno.test("a single and a tree kill of one process merge into the tree kill", () => {
  const both = rule(
    "both",
    `actions = [{ type = "kill", tree = false }, { type = "block" }, { type = "kill", tree = true }]`,
  ) + `
[[rule.steps]]
action = "open"
where = [{ field = "file.path", eq = "/etc/shadow" }]
`;
  const r = run(rules(both), SHADOW);
  deepEqual(r.verdicts[0]!.actions, [{ type: "report" }, {
    type: "kill",
    pid: 10,
    start: 1,
    entity_id: "10-1",
    tree: true,
  }]);
});

const KILL = rule("k", `actions = [{ type = "kill", tree = true }]`) + `
[[rule.steps]]
action = "open"
where = [{ field = "file.path", eq = "/etc/shadow" }]
`;
const SHADOW = [
  ev(1, "exec", { ...P(10, "/tmp/x"), parent: { pid: 1 } }),
  ev(2, "open", { pid: 10 }, { file: { path: "/etc/shadow" } }),
];

Deno.test("kill names pid, start and entity id", () => {
  const r = run(rules(KILL), SHADOW);
  deepEqual(r.verdicts[0]!.actions, [{ type: "report" }, {
    type: "kill",
    pid: 10,
    start: 1,
    entity_id: "10-1",
    tree: true,
  }]);
  equal(r.verdicts[0]!.mode, "block");
});

Deno.test("audit mode: report only", () => {
  const r = run(rules(KILL), SHADOW, { mode: "audit" });
  equal(r.verdicts[0]!.mode, "audit");
  deepEqual(r.verdicts[0]!.actions, [{ type: "report" }]);
});

Deno.test("exclusions: directory, exact path, extension, name; process and file", () => {
  const cases: [unknown[], boolean][] = [
    [[{ $type: "excludedPath", path: "/tmp", isDirectory: true }], true],
    [[{ $type: "excludedPath", path: "/tmp/x", isDirectory: false }], true],
    [[{ $type: "excludedPath", path: "/tm", isDirectory: true }], false],
    [[{ $type: "excludedPath", path: "/etc/shadow" }], true],
    [[{ $type: "excludedPath", path: "/tmp/*" }], true],
    [[{ $type: "excludedFileName", name: "x" }], true],
    [[{ $type: "excludedFileName", name: "y" }], false],
    [[{ $type: "excludedFileExtension", extension: ".sh" }], false],
  ];
  for (const [exclusions, suppressed] of cases) {
    const r = run(rules(KILL), SHADOW, { exclusions: exclusions as never });
    equal(r.verdicts.length, suppressed ? 0 : 1, JSON.stringify(exclusions));
    if (suppressed) ok(r.engine.stats().excludedEvents >= 1);
  }
  const script = [
    ev(1, "exec", { ...P(10, "/home/u/run.SH"), parent: { pid: 1 } }),
    ev(2, "open", { pid: 10 }, { file: { path: "/etc/shadow" } }),
  ];
  equal(
    run(rules(KILL), script, { exclusions: [{ $type: "excludedFileExtension", extension: "sh" }] })
      .verdicts.length,
    0,
  );
});

Deno.test("allowed threats suppress the verdict and count it", () => {
  const r = run(rules(KILL), SHADOW, { allowedThreats: ["Behavior:Linux/k.A"] });
  equal(r.verdicts.length, 0);
  deepEqual(r.fired, ["k"]);
  equal(r.engine.stats().suppressedByAllowedThreat, 1);
});

// Linux: auth exec (file, no args) then notify exec (args) for the same pid.
const LINUX_EXEC = [
  ev(1, "exec", { ...P(10, "/bin/bash"), parent: { pid: 1 } }),
  ev(2, "fork", { pid: 11, parent: { pid: 10 } }),
  ev(3, "exec", { pid: 11, executable: "/tmp/.hidden/miner" }, {
    file: { path: "/tmp/.hidden/miner" },
    bm: { auth_id: 41 },
  }),
  ev(4, "exec", {
    pid: 11,
    executable: "/tmp/.hidden/miner",
    args: ["miner", "--pool", "x"],
    working_directory: "/tmp",
  }),
];

Deno.test("Linux auth+notify exec: file rule blocks at auth, args rule kills at notify, no double firing", () => {
  const set = rules(
    rule("file_rule", `actions = [{ type = "block" }]`) + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.executable", glob = "/tmp/.*/**" }]
` + rule("args_rule", `actions = [{ type = "block" }]`) + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.args", eq = "--pool" }]
` + rule("both", "", 10) + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "miner" }]
`,
  );
  const r = run(set, LINUX_EXEC);
  deepEqual(r.fired, ["file_rule", "both", "args_rule"]);
  deepEqual(r.auth, [{ authId: 41, allow: false, cache: false }]);
  equal(r.verdicts.length, 2);
  deepEqual(r.verdicts[0]!.actions[1], { type: "block", auth_id: 41, pid: 11, entity_id: "11-2" });
  deepEqual(r.verdicts[1]!.actions[1], {
    type: "kill",
    pid: 11,
    start: 2,
    entity_id: "11-2",
    tree: false,
  });
  deepEqual(r.verdicts[1]!.process.args, ["miner", "--pool", "x"]);
  // The pair is one exec in the history: process_table_test.ts ("one history entry").
  deepEqual(r.verdicts[1]!.lineage.at(-1)!.args, ["miner", "--pool", "x"]);
});

Deno.test("every auth event gets an answer; allow when nothing blocks; audit never denies", () => {
  const set = rules(
    rule("file_rule", `actions = [{ type = "block" }]`) + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.executable", glob = "/tmp/.*/**" }]
`,
  );
  const benign = LINUX_EXEC.map((e) =>
    e.bm?.auth_id
      ? {
        ...e,
        process: { ...e.process, executable: "/usr/bin/ls" },
        file: { path: "/usr/bin/ls" },
      }
      : e
  ) as BmEvent[];
  deepEqual(run(set, benign).auth, [{ authId: 41, allow: true, cache: false }]);
  deepEqual(run(set, LINUX_EXEC, { mode: "audit" }).auth, [{
    authId: 41,
    allow: true,
    cache: false,
  }]);
  deepEqual(run(rules(""), LINUX_EXEC).auth, [{ authId: 41, allow: true, cache: false }]);
});

Deno.test("a sequence step after an auth exec is not matched again by its notify exec", () => {
  const set = rules(
    rule("twice") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "miner" }]
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "miner" }]
`,
  );
  deepEqual(run(set, LINUX_EXEC).fired, []);
});

Deno.test("a step reading args waits for them: not over args does not hold at the Linux auth exec", () => {
  const notArgs = (extra = "") =>
    rules(
      rule("no_safe", `actions = [{ type = "block" }]\n${extra}`) + `
[[rule.steps]]
action = "exec"
where = [
  { field = "process.name", eq = "miner" },
  { not = { field = "process.args", in = ["--safe"] } },
]
`,
    );
  // Fires at the notify exec (args known): a kill, not a deny of the auth exec.
  const r = run(notArgs(), LINUX_EXEC);
  deepEqual(r.fired, ["no_safe"]);
  deepEqual(r.auth, [{ authId: 41, allow: true, cache: false }]);
  equal(r.verdicts[0]!.actions[1]!.type, "kill");
  // With the excluded argument it never fires, neither at auth nor at notify.
  const safe = LINUX_EXEC.map((e, i) =>
    i === 3 ? { ...e, process: { ...e.process, args: ["miner", "--safe"] } } : e
  ) as BmEvent[];
  deepEqual(run(notArgs(), safe).fired, []);
  // The rule's exclude reads the cwd: the step waits for it too.
  const excl = notArgs(`exclude = [{ field = "process.working_directory", eq = "/tmp" }]`);
  deepEqual(run(excl, LINUX_EXEC).fired, []);
  equal(excl.rules[0]!.steps[0]!.needs, NEED_ARGS | NEED_CWD);
  // `exists` asks about presence: no need, so it can hold at the auth exec.
  const absent = rules(
    rule("absent") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "miner" }, { field = "process.args", exists = false }]
`,
  );
  equal(absent.rules[0]!.steps[0]!.needs, 0);
  deepEqual(run(absent, LINUX_EXEC).fired, ["absent"]);
});

Deno.test("a step reference to args makes the referenced step wait for them", () => {
  const set = rules(
    rule("ref") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "miner" }]

[[rule.steps]]
action = "open"
where = [{ field = "file.path", eq = { step = 1, field = "process.working_directory" } }]
`,
  );
  equal(set.rules[0]!.steps[0]!.needs, NEED_CWD);
  const r = run(set, [...LINUX_EXEC, ev(5, "open", { pid: 11 }, { file: { path: "/tmp" } })]);
  deepEqual(r.fired, ["ref"]);
});

const HASH = "ab".repeat(32);
const RTP_EVENTS = [
  ev(1, "exec", { ...P(10, "/usr/bin/curl"), parent: { pid: 1 } }),
  ev(2, "close_modified", { pid: 10 }, {
    file: { path: "/tmp/dl", hash: { sha256: HASH.toUpperCase() } },
  }),
  ev(3, "open", { pid: 10 }, { file: { path: "/etc/shadow" } }),
];

Deno.test("forwardRtpToBm: a blocklisted hash feeds the writer's score", () => {
  const r = run(rules(SIXTY), RTP_EVENTS, { forwardRtp: true, rtpBlocklist: new Set([HASH]) });
  deepEqual(r.fired, ["builtin.rtp_forward", "sixty"]);
  equal(r.verdicts.length, 1);
  deepEqual(r.verdicts[0]!.rule_ids, ["builtin.rtp_forward", "sixty"]);
  equal(r.verdicts[0]!.events[0]!.event.action, "rtp_verdict");
  equal(r.engine.stats().rtpVerdicts, 1);
  const off = run(rules(SIXTY), RTP_EVENTS, { forwardRtp: false, rtpBlocklist: new Set([HASH]) });
  deepEqual(off.fired, ["sixty"]);
  const other = run(rules(SIXTY), RTP_EVENTS, {
    forwardRtp: true,
    rtpBlocklist: new Set(["cd".repeat(32)]),
  });
  deepEqual(other.fired, ["sixty"]);
});

Deno.test("forwardRtpToBm: a pack rule on rtp_verdict replaces the built-in one", () => {
  const set = rules(
    rule("rtp") + `
[[rule.steps]]
action = "rtp_verdict"
where = [{ field = "bm.rtp_threat", starts_with = "sha256:" }]
`,
  );
  const r = run(set, RTP_EVENTS, { forwardRtp: true, rtpBlocklist: new Set([HASH]) });
  deepEqual(r.fired, ["rtp"]);
  equal(r.verdicts[0]!.process.pid, 10);
});

Deno.test("process table: bounded with evictions counted; exited processes expire after retention", () => {
  const evs: BmEvent[] = [];
  for (let i = 0; i < 5000; i++) {
    evs.push(ev(i, "fork", { pid: 1000 + i, parent: { pid: 1 } }));
    if (i % 2 === 0) evs.push(ev(i, "exit", { pid: 1000 + i }));
  }
  const r = run(rules(""), evs, { processTableMax: 1000, exitedRetentionMs: 60_000 });
  const s = r.engine.stats();
  ok(s.processes <= 1000 + 4096, `bounded: ${s.processes}`);
  ok(s.processEvictions > 0);
  const r2 = run(rules(""), [
    ev(0, "fork", { pid: 5, parent: { pid: 1 } }),
    ev(1, "exit", { pid: 5 }),
    ev(30_000, "fork", { pid: 6, parent: { pid: 1 } }),
  ], { exitedRetentionMs: 10_000 });
  equal(r2.engine.stats().exitedExpired, 1);
  equal(r2.engine.stats().processes, 2, "pid 5 gone: pid 1 and pid 6 left");
});

Deno.test("a sequence completes across the exit of its first process within retention", () => {
  const set = rules(WRITE_EXEC);
  const evs = [
    ev(1, "exec", { ...P(10, "/bin/bash"), parent: { pid: 1 } }),
    ev(2, "fork", { pid: 11, parent: { pid: 10 } }),
    ev(3, "close_modified", { pid: 10 }, { file: { path: "/tmp/a" } }),
    ev(4, "exit", { pid: 10 }),
    ev(5, "exec", P(11, "/tmp/a")),
  ];
  deepEqual(run(set, evs).fired, ["wx"]);
});

Deno.test("pid reuse: a new start time is a new entity", () => {
  const r = run(rules(KILL), [
    ev(1, "exec", { pid: 10, start: 1, executable: "/tmp/x", args: ["x"], parent: { pid: 1 } }),
    ev(2, "exit", { pid: 10, start: 1 }),
    ev(5000, "exec", {
      pid: 10,
      start: 5000,
      executable: "/tmp/y",
      args: ["y"],
      parent: { pid: 1 },
    }),
    ev(5001, "open", { pid: 10, start: 5000 }, { file: { path: "/etc/shadow" } }),
  ]);
  equal(r.verdicts[0]!.process.entity_id, "10-5000");
  equal(r.verdicts[0]!.process.executable, "/tmp/y");
});

Deno.test("determinism: the same events give the same verdicts", () => {
  // Every kind of sequence: ordered, unordered (two arrival orders), relation lists.
  const list = seqRule("X", "bash", "python3").replace(
    `relation = "X"`,
    `relation = ["sibling", "lineage"]`,
  )
    .replace(`id = "seq"`, `id = "seq_list"`).replace("seq.A", "seqlist.A");
  const set = rules(
    SIXTY + SIXTY_B + WRITE_EXEC + seqRule("sibling", "curl", "sh") + UNORDERED + list,
  );
  equal(set.rules.length, 6);
  const evs: BmEvent[] = [];
  for (let k = 0; k < 20; k++) {
    const t = k * 1000;
    evs.push(
      ...tree(t).map((e) => ({
        ...e,
        process: {
          ...e.process,
          pid: e.process.pid + k * 100,
          ...(e.process.parent
            ? { parent: { pid: e.process.parent.pid === 1 ? 1 : e.process.parent.pid + k * 100 } }
            : {}),
        },
      })),
    );
    evs.push(ev(t + 20, "open", { pid: 11 + k * 100 }, { file: { path: "/etc/shadow" } }));
    evs.push(ev(t + 21, "open", { pid: 13 + k * 100 }, { file: { path: "/etc/gshadow" } }));
    evs.push(ev(t + 22, "close_modified", { pid: 12 + k * 100 }, { file: { path: `/tmp/p${k}` } }));
    evs.push(ev(t + 23, "fork", { pid: 14 + k * 100, parent: { pid: 12 + k * 100 } }));
    evs.push(ev(t + 24, "exec", P(14 + k * 100, `/tmp/p${k}`)));
  }
  const a = run(set, evs);
  const b = run(set, structuredClone(evs));
  ok(a.verdicts.length >= 40);
  for (const id of ["seq", "seq_list", "pipe"]) ok(a.fired.includes(id), `${id} never fired`);
  equal(JSON.stringify(a.verdicts), JSON.stringify(b.verdicts));
  deepEqual(a.fired, b.fired);
  deepEqual(a.engine.stats(), b.engine.stats());
});

Deno.test("setRules swaps rule sets; setOptions changes mode", () => {
  const engine = new Engine(rules(""), DEFAULT_ENGINE_OPTIONS, new FakeClock(0));
  equal(engine.process(SHADOW[0]!).verdicts.length, 0);
  engine.setRules(rules(KILL));
  engine.setOptions({ mode: "audit" });
  const out = engine.process(SHADOW[1]!);
  equal(out.verdicts.length, 1);
  deepEqual(out.verdicts[0]!.actions, [{ type: "report" }]);
  equal(engine.stats().rules, 1);
  engine.setOptions({ platform: "macos" });
  equal(engine.stats().rules, 0, "linux-only rule inactive on macos");
});

Deno.test("seeded processes match sensor entity ids whose start differs by a few ms", () => {
  const engine = new Engine(rules(KILL), DEFAULT_ENGINE_OPTIONS, new FakeClock(10_000));
  engine.seed([
    { pid: 1, ppid: 0, start: 0, executable: "/sbin/init", args: ["/sbin/init"] },
    { pid: 500, ppid: 1, start: 5000, executable: "/usr/sbin/sshd", args: ["sshd"] },
    { pid: 600, ppid: 500, start: 6000, executable: "/bin/bash", args: ["-bash"], uid: 1000 },
  ]);
  engine.process(
    ev(20_000, "fork", {
      pid: 700,
      start: 20_000,
      entity_id: "700-20000",
      parent: { pid: 600, entity_id: "600-6004" },
    }),
  );
  const out = engine.process(
    ev(20_001, "exec", {
      pid: 700,
      start: 20_000,
      entity_id: "700-20000",
      executable: "/tmp/x",
      args: ["x"],
    }),
  );
  equal(out.verdicts.length, 0);
  const v = engine.process(
    ev(20_002, "open", { pid: 700, entity_id: "700-20000" }, { file: { path: "/etc/shadow" } }),
  ).verdicts[0]!;
  deepEqual(v.lineage.map((l) => [l.pid, l.entity_id, l.executable]), [
    [1, "1-0", "/sbin/init"],
    [500, "500-5000", "/usr/sbin/sshd"],
    [600, "600-6000", "/bin/bash"],
    [700, "700-20000", "/tmp/x"],
  ]);
  equal(v.lineage[2]!.uid, 1000);
  // Seeded bash, known to the sensor as 600-6004, is the same process.
  const bash = engine.process(
    ev(20_003, "open", { pid: 600, entity_id: "600-6004", start: 6004 }, {
      file: { path: "/etc/shadow" },
    }),
  ).verdicts[0]!;
  equal(bash.process.entity_id, "600-6000");
  equal(engine.stats().processes, 4);
});

Deno.test("identical sequence starts collapse into the newest (bounded partials, later deadline)", () => {
  const set = rules(
    WRITE_EXEC.replace('maxspan = "5m"', "").replace(
      'actions = [{ type = "block" }',
      'maxspan = "10s"\nactions = [{ type = "block" }',
    ),
  );
  const evs: BmEvent[] = [ev(1, "exec", { ...P(10, "/bin/bash"), parent: { pid: 1 } })];
  for (let i = 0; i < 1000; i++) {
    evs.push(ev(2 + i * 10, "close_modified", { pid: 10 }, { file: { path: "/tmp/a" } }));
  }
  evs.push(ev(10_010, "close_modified", { pid: 10 }, { file: { path: "/tmp/b" } }));
  const r = run(set, evs);
  equal(r.engine.stats().partials, 2, "one per (process, file)");
  // The first write is older than maxspan, the last one is not: still fires.
  const r2 = run(set, [
    ...evs,
    ev(10_020, "fork", { pid: 11, parent: { pid: 10 } }),
    ev(10_030, "exec", P(11, "/tmp/a")),
  ]);
  deepEqual(r2.fired, ["wx"]);
});

Deno.test("relation lists: any of the listed relations; each keeps its own meaning", () => {
  const list = (first: string, second: string) =>
    rules(
      seqRule("X", first, second).replace(`relation = "X"`, `relation = ["sibling", "lineage"]`),
    );
  equal(run(list("curl", "sh"), tree()).fired.includes("seq"), true, "sibling");
  equal(run(list("bash", "python3"), tree()).fired.includes("seq"), true, "lineage: descendant");
  // Its own later event: not a sibling of itself, but lineage (the same process) holds.
  const again = [...tree(), ev(20, "open", { pid: 11 }, { file: { path: "/x" } })];
  equal(run(list("curl", "curl"), again).fired.includes("seq"), true, "lineage: same process");
  equal(run(list("python3", "sh"), tree()).fired.includes("seq"), false, "other tree");
  // bash(20) is a child of init, an ancestor of sh(12): lineage keys must not answer for sibling.
  equal(run(list("sh", "bash"), tree()).fired.includes("seq"), false, "uncle");
  // A single relation written as a list of one is that relation.
  const one = rules(
    seqRule("X", "curl", "python3").replace(`relation = "X"`, `relation = ["sibling"]`),
  );
  equal(run(one, tree()).fired.includes("seq"), false);
});

/** bash(10) runs `a | b | c`: three forked siblings exec'ing in the given order. */
function siblings(order: string[]): BmEvent[] {
  const out: BmEvent[] = [ev(1, "exec", { ...P(10, "/bin/bash"), parent: { pid: 1 } })];
  order.forEach((name, i) => {
    out.push(ev(2 + i * 2, "fork", { pid: 30 + i, parent: { pid: 10 } }));
    out.push(ev(3 + i * 2, "exec", P(30 + i, `/usr/bin/${name}`)));
  });
  return out;
}

const UNORDERED = rule(
  "pipe",
  `ordered = false\nactions = [{ type = "report" }, { type = "kill", step = 2, tree = true }]`,
) + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "curl" }]

[[rule.steps]]
action = "exec"
relation = "sibling"
where = [{ field = "process.name", eq = "sh" }]
`;

Deno.test("ordered = false: steps complete in any order; actions and events name written steps", () => {
  const set = rules(UNORDERED);
  equal(set.rules[0]!.orders?.length, 2);
  for (const order of [["curl", "sh"], ["sh", "curl"]]) {
    const r = run(set, siblings(order));
    deepEqual(r.fired, ["pipe"], order.join(","));
    const v = r.verdicts[0]!;
    const shPid = 30 + order.indexOf("sh");
    const kill = v.actions[1]!;
    ok(kill.type === "kill" && kill.pid === shPid && kill.tree, JSON.stringify(kill));
    // The hit's events follow the written steps: curl's exec, then sh's.
    deepEqual(v.hits[0]!.event_indexes.map((i) => v.events[i]!.process.executable), [
      "/usr/bin/curl",
      "/usr/bin/sh",
    ]);
    equal(v.process.pid, shPid, "the written last step's process acts");
  }
  // Ordered, the reversed pipeline does not match; and two shells alone never do.
  const ordered = rules(UNORDERED.replace("ordered = false", "ordered = true"));
  deepEqual(run(ordered, siblings(["sh", "curl"])).fired, []);
  deepEqual(run(set, siblings(["sh", "sh"])).fired, []);
  // Once per first-step process: curl, sh, sh fires once.
  deepEqual(run(set, siblings(["curl", "sh", "sh"])).fired, ["pipe"]);
  deepEqual(run(set, siblings(["sh", "curl", "sh"])).fired, ["pipe"]);
  equal(run(set, siblings(["sh", "curl"])).engine.stats().rules, 1);
});

Deno.test("ordered = false: three steps chained by sibling match in every order", () => {
  const set = rules(
    rule("three", "ordered = false") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "curl" }]
[[rule.steps]]
action = "exec"
relation = "sibling"
where = [{ field = "process.name", eq = "base64" }]
[[rule.steps]]
action = "exec"
relation = "sibling"
where = [{ field = "process.name", eq = "sh" }]
`,
  );
  const names = ["curl", "base64", "sh"];
  const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  for (const o of orders) {
    deepEqual(run(set, siblings(o.map((i) => names[i]!))).fired, ["three"], String(o));
  }
  deepEqual(run(set, siblings(["curl", "sh"])).fired, []);
});

Deno.test("ordered = false: load problems (refs, count, one-way relations, unrelatable orders)", () => {
  const msgs = (extra: string, steps: string) =>
    problemsOf(rule("u", "ordered = false") + extra + steps).map((p) => p.message);
  const two = (rel: string, where2 = `{ field = "process.name", eq = "sh" }`, more = "") => `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "curl" }]${more}
[[rule.steps]]
action = "exec"
relation = ${rel}
where = [${where2}]
`;
  deepEqual(msgs("", two(`"child"`)), [
    `With "ordered = false" a relation must hold both ways (same, sibling, lineage), not "child"`,
  ]);
  deepEqual(
    msgs(
      "",
      two(`"sibling"`, `{ field = "process.executable", eq = { step = 1, field = "file.path" } }`),
    ),
    [
      `Step references ({ step = N, ... }) need ordered steps`,
    ],
  );
  deepEqual(msgs("", two(`"sibling"`, `{ field = "process.name", eq = "sh" }`, "\ncount = 3")), [
    `"count" needs ordered steps`,
  ]);
  deepEqual(msgs("", two(`["same", "lineage"]`)), []);
  const star = `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "a" }]
[[rule.steps]]
action = "exec"
relation = "lineage"
where = [{ field = "process.name", eq = "b" }]
[[rule.steps]]
action = "exec"
relation = "lineage"
of = 1
where = [{ field = "process.name", eq = "c" }]
`;
  const m = msgs("", star);
  equal(m.length, 1);
  match(m[0]!, /step 3 may arrive before every step it is related to \(order 2, 3, 1\)/);
});

Deno.test("scopePid: only the scope root and its descendants reach the rules", () => {
  // init(1) -> runner(5) -> sh(10) reads /etc/shadow; init(1) -> other(20) does too.
  const events = [
    ev(1, "exec", { ...P(5, "/usr/bin/runner"), parent: { pid: 1 } }),
    ev(2, "fork", { pid: 10, parent: { pid: 5 } }),
    ev(3, "exec", { ...P(10, "/tmp/x"), parent: { pid: 5 } }),
    ev(4, "exec", { ...P(20, "/tmp/y"), parent: { pid: 1 } }),
    ev(5, "open", { pid: 20 }, { file: { path: "/etc/shadow" } }),
    ev(6, "open", { pid: 10 }, { file: { path: "/etc/shadow" } }),
  ];
  const scoped = run(rules(KILL), events, { scopePid: 5 });
  deepEqual(scoped.verdicts.map((v) => v.process.pid), [10]);
  ok(scoped.engine.stats().outOfScopeEvents >= 2, "pid 20's events counted out of scope");
  const whole = run(rules(KILL), events);
  deepEqual(whole.verdicts.map((v) => v.process.pid).sort(), [10, 20]);
  equal(whole.engine.stats().outOfScopeEvents, 0);
});

Deno.test("a tool by its name or its script among the arguments: the index passes both and only them", () => {
  const set = rules(
    rule("tool") + `
[[rule.steps]]
action = "exec"
where = [{ any = [{ field = "process.name", eq = "3snake" }, { field = "process.args", contains = "lazagne.py" }] }]
` + rule("other") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "never" }]
`,
  );
  ok(set.rules[0]!.steps[0]!.imageOrCmd !== undefined, "the step has the index's filter");
  const exec = (pid: number, exe: string, args: string[]) =>
    ev(pid, "exec", { pid, executable: exe, args, parent: { pid: 1 } });
  const r = run(set, [
    exec(10, "/opt/3snake", ["3snake", "-v"]), // by its name, no literal in the line
    exec(11, "/usr/bin/python3", ["python3", "/tmp/x/lazagne.py"]), // by its script
    exec(12, "/usr/bin/python3", ["python3", "/tmp/x/other.py"]),
    exec(13, "/opt/3snakes", ["3snakes"]),
  ]);
  deepEqual(r.firings.map((f) => f.entityId), ["10-10", "11-11"]);
});
