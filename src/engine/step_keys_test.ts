import { deepEqual } from "node:assert/strict";
import { stepKeys } from "./step_keys.ts";

Deno.test("step keys: names a step requires of the event's process or file", () => {
  const lists = new Map([["shells", ["sh", "Bash"]]]);
  deepEqual(stepKeys([{ field: "process.name", in: "@shells" }], lists), { name: ["sh", "bash"] });
  deepEqual(
    stepKeys([{ field: "process.executable", iends_with: ["/usr/bin/Curl", "/wget"] }], undefined),
    { exe: ["curl", "wget"] },
  );
  deepEqual(stepKeys([{ field: "file.path", glob: "/etc/**/passwd" }], undefined), {
    fname: ["passwd"],
  });
  // Every alternative of an `any` keyed on the same dimension; the smallest set of an `all`.
  deepEqual(
    stepKeys([{
      any: [{ field: "process.name", eq: "nc" }, {
        all: [{ field: "process.name", in: ["a", "b", "c"] }, { field: "process.name", eq: "b" }],
      }],
    }], undefined),
    { name: ["nc", "b"] },
  );
});

Deno.test("step keys: none where a condition accepts names it cannot list", () => {
  for (
    const c of [
      { field: "process.executable", ends_with: "curl" }, // "libcurl" too
      { field: "process.name", glob: "py*" },
      { field: "process.name", regex: "^nc$" },
      { field: "process.name", ne: "nc" },
      { not: { field: "process.name", eq: "nc" } },
      { any: [{ field: "process.name", eq: "nc" }, { field: "process.args", eq: "-e" }] },
      { field: "file.path", glob: "/a[/]b" },
      { child_of: [{ field: "process.name", eq: "sshd" }] },
      { field: "process.name", eq: { field: "process.parent.name" } },
    ]
  ) deepEqual(stepKeys([c], undefined), undefined, JSON.stringify(c));
});
