import { deepEqual, equal } from "node:assert/strict";
import { ev, rule, rules, run } from "./engine_test_utils.ts";
import type { BmEvent } from "../sensor/event.ts";

/** Parent bash (pid 10) -> python3 (pid 11) with args, then the event under test by pid 11. */
function scenario(last: BmEvent): BmEvent[] {
  return [
    ev(1, "exec", { pid: 10, executable: "/bin/bash", args: ["bash", "-l"], parent: { pid: 1 } }),
    ev(2, "fork", { pid: 11, parent: { pid: 10 } }),
    ev(3, "exec", {
      pid: 11,
      executable: "/usr/bin/python3",
      args: ["python3", "-c", "import pty; pty.spawn('/bin/sh')"],
      working_directory: "/home/u",
    }, { user: { id: 1000 } }),
    last,
  ];
}

const OPEN = ev(4, "open", { pid: 11 }, {
  file: { path: "/home/u/.ssh/id_RSA", size: 2048, mode: 0o600 },
});

function fires(where: string, last: BmEvent = OPEN): boolean {
  const set = rules(
    rule("t") + `
[[rule.steps]]
action = "${last.event.action}"
where = [${where}]
`,
  );
  return run(set, scenario(last)).fired.includes("t");
}

const cases: [string, string, boolean][] = [
  ["eq string", `{ field = "file.path", eq = "/home/u/.ssh/id_RSA" }`, true],
  ["eq string miss", `{ field = "file.path", eq = "/home/u/.ssh/id_rsa" }`, false],
  ["eq number", `{ field = "file.size", eq = 2048 }`, true],
  ["eq on inherited uid", `{ field = "user.id", eq = 1000 }`, true],
  ["ne", `{ field = "process.name", ne = "bash" }`, true],
  ["ne miss", `{ field = "process.name", ne = "python3" }`, false],
  ["ne on absent field holds", `{ field = "file.target_path", ne = "x" }`, true],
  ["ieq", `{ field = "file.name", ieq = "ID_rsa" }`, true],
  ["in", `{ field = "process.name", in = ["perl", "python3"] }`, true],
  ["in miss", `{ field = "process.name", in = ["perl", "ruby"] }`, false],
  ["in numbers", `{ field = "file.mode", in = [384, 420] }`, true],
  ["iin", `{ field = "file.name", iin = ["id_rsa", "id_ed25519"] }`, true],
  ["glob *", `{ field = "file.path", glob = "/home/*/.ssh/*" }`, true],
  ["glob * stays in a segment", `{ field = "file.path", glob = "/home/*" }`, false],
  ["glob **", `{ field = "file.path", glob = "/home/**" }`, true],
  ["glob **/ zero dirs", `{ field = "file.path", glob = "/home/u/**/.ssh/id_*" }`, true],
  ["glob ?", `{ field = "file.path", glob = "/home/?/.ssh/id_RS?" }`, true],
  ["glob class", `{ field = "file.path", glob = "/home/[a-z]/.ssh/id_[!x]SA" }`, true],
  ["glob list any", `{ field = "file.path", glob = ["/etc/*", "/home/**/id_*"] }`, true],
  ["glob case", `{ field = "file.path", glob = "/home/**/id_rsa" }`, false],
  ["iglob", `{ field = "file.path", iglob = "/home/**/id_rsa" }`, true],
  ["regex", `{ field = "file.path", regex = "\\\\.ssh/id_[A-Z]+$" }`, true],
  ["regex miss", `{ field = "file.path", regex = "^/root/" }`, false],
  ["iregex", `{ field = "file.path", iregex = "id_rsa$" }`, true],
  ["contains", `{ field = "file.path", contains = ".ssh" }`, true],
  ["contains list", `{ field = "file.path", contains = ["nope", "/u/"] }`, true],
  ["icontains", `{ field = "file.path", icontains = "ID_RSA" }`, true],
  ["contains is case-sensitive", `{ field = "file.path", contains = "ID_RSA" }`, false],
  ["starts_with", `{ field = "file.path", starts_with = "/home/" }`, true],
  ["istarts_with", `{ field = "file.path", istarts_with = "/HOME/" }`, true],
  ["ends_with", `{ field = "file.path", ends_with = "_RSA" }`, true],
  ["iends_with", `{ field = "file.path", iends_with = "_rsa" }`, true],
  ["ends_with miss", `{ field = "file.path", ends_with = "_rsa" }`, false],
  ["gt", `{ field = "file.size", gt = 2047 }`, true],
  ["gt miss", `{ field = "file.size", gt = 2048 }`, false],
  ["gte", `{ field = "file.size", gte = 2048 }`, true],
  ["lt", `{ field = "file.size", lt = 2049 }`, true],
  ["lte", `{ field = "file.size", lte = 2047 }`, false],
  ["exists true", `{ field = "file.size", exists = true }`, true],
  ["exists false", `{ field = "file.target_path", exists = false }`, true],
  ["exists on missing", `{ field = "file.target_path", exists = true }`, false],
  ["list field: any element", `{ field = "process.args", eq = "-c" }`, true],
  ["list field: contains", `{ field = "process.args", contains = "pty.spawn" }`, true],
  ["command_line", `{ field = "process.command_line", contains = "-c import pty" }`, true],
  [
    "process view on a file event",
    `{ field = "process.executable", eq = "/usr/bin/python3" }`,
    true,
  ],
  ["working directory", `{ field = "process.working_directory", eq = "/home/u" }`, true],
  ["parent name", `{ field = "process.parent.name", eq = "bash" }`, true],
  ["parent args", `{ field = "process.parent.args", eq = "-l" }`, true],
  ["file.extension absent", `{ field = "file.extension", exists = true }`, false],
  ["file.directory", `{ field = "file.directory", eq = "/home/u/.ssh" }`, true],
  ["event.action", `{ field = "event.action", eq = "open" }`, true],
  [
    "all",
    `{ all = [{ field = "process.name", eq = "python3" }, { field = "file.size", gt = 1 }] }`,
    true,
  ],
  [
    "all miss",
    `{ all = [{ field = "process.name", eq = "python3" }, { field = "file.size", gt = 9999 }] }`,
    false,
  ],
  [
    "any",
    `{ any = [{ field = "process.name", eq = "perl" }, { field = "file.size", gt = 1 }] }`,
    true,
  ],
  [
    "any miss",
    `{ any = [{ field = "process.name", eq = "perl" }, { field = "file.size", gt = 9999 }] }`,
    false,
  ],
  ["not", `{ not = { field = "process.name", eq = "perl" } }`, true],
  ["not miss", `{ not = { field = "process.name", eq = "python3" } }`, false],
  [
    "child_of",
    `{ child_of = [{ field = "process.name", eq = "bash" }, { field = "process.args", eq = "-l" }] }`,
    true,
  ],
  ["child_of miss", `{ child_of = [{ field = "process.name", eq = "sshd" }] }`, false],
  ["descendant_of", `{ descendant_of = [{ field = "process.pid", eq = 1 }] }`, true],
  [
    "descendant_of any ancestor",
    `{ descendant_of = [{ field = "process.executable", glob = "/bin/*" }] }`,
    true,
  ],
  ["descendant_of miss", `{ descendant_of = [{ field = "process.name", eq = "cron" }] }`, false],
  [
    "descendant_of with not",
    `{ descendant_of = [{ not = { field = "process.name", eq = "bash" } }] }`,
    true,
  ],
  ["bits_any", `{ field = "file.mode", bits_any = 0o400 }`, true],
  ["bits_any miss (setuid)", `{ field = "file.mode", bits_any = 2048 }`, false],
  ["bits_all", `{ field = "file.mode", bits_all = 0o600 }`, true],
  ["bits_all needs every bit", `{ field = "file.mode", bits_all = 0o700 }`, false],
  ["bits on an absent field", `{ field = "process.exit_code", bits_any = 1 }`, false],
  [
    "field ref: same event",
    `{ field = "file.path", starts_with = { field = "file.directory" } }`,
    true,
  ],
  ["field ref: miss", `{ field = "file.name", eq = { field = "file.path" } }`, false],
  ["field ref: ne", `{ field = "file.name", ne = { field = "file.path" } }`, true],
  [
    "field ref: list side, any element",
    `{ field = "process.args", eq = { field = "process.name" } }`,
    true,
  ],
  [
    "field ref: absent side never holds",
    `{ field = "file.target_path", eq = { field = "file.path" } }`,
    false,
  ],
  [
    "two conditions are and-ed",
    `{ field = "process.name", eq = "python3" }, { field = "file.size", lt = 10 }`,
    false,
  ],
];

for (const [name, where, want] of cases) {
  Deno.test(`operator ${name}`, () => {
    equal(fires(where), want, where);
  });
}

Deno.test("step actions: a list matches each listed kind and nothing else", () => {
  const set = rules(
    rule("t") + `
[[rule.steps]]
action = ["create", "rename"]
where = [{ field = "file.path", starts_with = "/tmp/" }]
`,
  );
  const base = scenario(ev(4, "create", { pid: 11 }, { file: { path: "/tmp/a" } }));
  deepEqual(run(set, base).fired, ["t"]);
  const other = scenario(ev(4, "unlink", { pid: 11 }, { file: { path: "/tmp/a" } }));
  deepEqual(run(set, other).fired, []);
});

Deno.test("rule exclude suppresses a match", () => {
  const step = `
[[rule.steps]]
action = "open"
where = [{ field = "file.name", ieq = "id_rsa" }]
`;
  // The control: without the exclude the same events fire the rule.
  deepEqual(run(rules(rule("t") + step), scenario(OPEN)).fired, ["t"]);
  const set = rules(rule("t", `exclude = [{ field = "process.parent.name", eq = "bash" }]`) + step);
  deepEqual(run(set, scenario(OPEN)).fired, []);
});

Deno.test("field ref: a rename target is its source plus an extension", () => {
  const set = rules(
    rule("t") + `
[[rule.steps]]
action = "rename"
where = [
  { field = "file.target_path", starts_with = { field = "file.path" } },
  { field = "file.target_path", ne = { field = "file.path" } },
]
`,
  );
  const ren = (dst: string) =>
    scenario(ev(4, "rename", { pid: 11 }, { file: { path: "/home/u/a.docx", target_path: dst } }));
  deepEqual(run(set, ren("/home/u/a.docx.locked")).fired, ["t"]);
  deepEqual(run(set, ren("/home/u/b.docx")).fired, []);
  deepEqual(run(set, ren("/home/u/a.docx")).fired, []);
});
