import { deepEqual, equal } from "node:assert/strict";
import { imageGate, imageOnly, stepCmdLiterals, stepImageOrCmd, stepKeys } from "./step_keys.ts";

Deno.test("step keys: the file names a step requires", () => {
  const lists = new Map([["rc", [".bashrc", "/etc/Profile"]]]);
  deepEqual(stepKeys([{ field: "file.name", in: "@rc" }], lists), {
    fname: [".bashrc", "/etc/profile"],
  });
  deepEqual(stepKeys([{ field: "file.path", iends_with: ["/etc/Passwd", "/shadow"] }], undefined), {
    fname: ["passwd", "shadow"],
  });
  deepEqual(stepKeys([{ field: "file.path", glob: "/etc/**/passwd" }], undefined), {
    fname: ["passwd"],
  });
  // Every alternative of an `any` keyed; the smallest set of an `all`.
  deepEqual(
    stepKeys([{
      any: [{ field: "file.name", eq: "nc" }, {
        all: [{ field: "file.name", in: ["a", "b", "c"] }, { field: "file.path", eq: "/x/b" }],
      }],
    }], undefined),
    { fname: ["nc", "b"] },
  );
});

Deno.test("image-only conditions: the process name and executable with literal operands", () => {
  equal(imageOnly({ field: "process.name", in: ["a"] }), true);
  equal(
    imageOnly({
      any: [{ field: "process.executable", regex: "^/tmp/" }, {
        not: { field: "process.name", eq: "x" },
      }],
    }),
    true,
  );
  equal(imageOnly({ field: "process.args", eq: "-e" }), false);
  equal(imageOnly({ field: "process.name", eq: { field: "process.parent.name" } }), false);
  equal(
    imageOnly({ any: [{ field: "process.name", eq: "nc" }, { field: "file.path", eq: "/x" }] }),
    false,
  );
  equal(imageOnly({ child_of: [{ field: "process.name", eq: "sshd" }] }), false);
  equal(imageOnly({ field: "process.parent.name", eq: "sshd" }), false);
});

Deno.test("step keys: none where a condition accepts file names it cannot list", () => {
  for (
    const c of [
      { field: "file.path", ends_with: "passwd" }, // "opasswd" too
      { field: "file.name", glob: "*.sh" },
      { field: "file.name", regex: "^x$" },
      { field: "file.name", ne: "x" },
      { not: { field: "file.name", eq: "x" } },
      { any: [{ field: "file.name", eq: "x" }, { field: "process.name", eq: "x" }] },
      { field: "file.path", glob: "/a[/]b" },
      { field: "process.name", eq: "x" },
      { field: "file.name", eq: { field: "file.target_name" } },
    ]
  ) deepEqual(stepKeys([c], undefined), undefined, JSON.stringify(c));
});

Deno.test("image gate: what a condition requires of the process name and executable alone", () => {
  const name = { field: "process.name", in: ["sysctl"] };
  const args = { field: "process.args", eq: "-w" };
  deepEqual(imageGate(name), name);
  deepEqual(imageGate({ all: [name, args] }), { all: [name] });
  deepEqual(imageGate({ any: [{ all: [name, args] }, name] }), { any: [{ all: [name] }, name] });
  equal(imageGate({ any: [name, args] }), undefined);
  equal(imageGate({ not: { all: [name, args] } }), undefined);
  deepEqual(imageGate({ not: name }), { not: name });
  equal(imageGate(args), undefined);
});

Deno.test("command-line literals: one of which the lower-cased command line holds when the step matches", () => {
  deepEqual(
    stepCmdLiterals(
      [{ field: "process.command_line", icontains: ["Stratum+TCP://", "x"] }],
      undefined,
    ),
    [
      "stratum+tcp://",
      "x",
    ],
  );
  deepEqual(stepCmdLiterals([{ field: "process.args", in: ["-E", 5] }], undefined), ["-e"]);
  deepEqual(
    stepCmdLiterals([{ field: "process.args", regex: "^LD_(PRELOAD|AUDIT)=" }], undefined),
    [
      "preload",
      "audit",
    ],
  );
  // The conjunct whose shortest literal is longest; every alternative of an `any`.
  deepEqual(
    stepCmdLiterals([
      { field: "process.args", eq: "-c" },
      {
        any: [{ field: "process.command_line", contains: "pty.spawn" }, {
          field: "process.args",
          ieq: "socket",
        }],
      },
    ], undefined),
    ["pty.spawn", "socket"],
  );
  for (
    const c of [
      { field: "process.args", regex: ".*" },
      { field: "process.args", contains: "\u00c9" }, // not ASCII, case-sensitive
      { field: "process.args", glob: "*x*" },
      { field: "process.args", ne: "-e" },
      { not: { field: "process.args", eq: "-e" } },
      { any: [{ field: "process.args", eq: "-e" }, { field: "process.name", eq: "nc" }] },
      { field: "process.args", eq: { field: "process.parent.args" } },
      { field: "process.args", contains: "" },
    ]
  ) equal(stepCmdLiterals([c], undefined), undefined, JSON.stringify(c));
});

Deno.test("name or command line: an any of image-only and command-line alternatives", () => {
  const name = { field: "process.name", iregex: "^(lazagne|3snake)$" };
  const exe = { field: "process.executable", ends_with: "/tickey" };
  const args = { field: "process.args", iregex: "(^|/)lazagne\\.py$" };
  const line = { field: "process.command_line", contains: "3snake" };
  deepEqual(stepImageOrCmd([{ any: [name, args, exe, line] }], undefined), {
    image: { any: [name, exe] },
    literals: ["lazagne.py", "3snake"],
  });
  // the first conjunct of the shape; the others still hold through the step's own conditions
  deepEqual(
    stepImageOrCmd(
      [{ field: "user.id", eq: 0 }, { any: [args, name] }, { any: [line, exe] }],
      undefined,
    ),
    { image: { any: [name] }, literals: ["lazagne.py"] },
  );
  for (
    const where of [
      [{ any: [name, exe] }], // image only: the image gate's
      [{ any: [args, line] }], // literals only: the command-line literals'
      [{ any: [name, { field: "process.args", ne: "-e" }] }], // an alternative with no literal
      [{ any: [name, { field: "file.path", eq: "/etc/shadow" }] }], // nor an image-only one
      [{ all: [name, args] }],
      [{ any: [] }],
    ]
  ) equal(stepImageOrCmd(where, undefined), undefined, JSON.stringify(where));
});
