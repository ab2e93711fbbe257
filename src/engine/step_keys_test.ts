import { deepEqual, equal } from "node:assert/strict";
import { imageGate, imageOnly, stepKeys } from "./step_keys.ts";

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
