import { equal, throws } from "node:assert/strict";
import { compileGlob } from "./glob.ts";

const cases: [string, string, boolean][] = [
  ["/tmp/*", "/tmp/a", true],
  ["/tmp/*", "/tmp/a/b", false],
  ["/tmp/**", "/tmp/a/b", true],
  ["/tmp/**", "/tmp", false],
  ["/a/**/b", "/a/b", true],
  ["/a/**/b", "/a/x/y/b", true],
  ["**/.ssh/*", "/home/u/.ssh/id", true],
  ["/x/?.sh", "/x/a.sh", true],
  ["/x/?.sh", "/x/ab.sh", false],
  ["/x/?", "/x//", false],
  ["/x/[ab].c", "/x/b.c", true],
  ["/x/[!ab].c", "/x/b.c", false],
  ["/x/[!ab].c", "/x/c.c", true],
  ["/x/a.c", "/x/abc", false],
  ["/x/a+b(c)|$^{1}", "/x/a+b(c)|$^{1}", true],
];

for (const [g, path, want] of cases) {
  Deno.test(`glob ${g} ~ ${path}`, () => {
    equal(compileGlob(g)(path), want);
  });
}

Deno.test("glob: case-insensitive form", () => {
  equal(compileGlob("/Users/*/Library/**", true)("/users/a/library/x"), true);
  equal(compileGlob("/Users/*/Library/**")("/users/a/library/x"), false);
});

Deno.test("glob: malformed patterns throw with the reason", () => {
  throws(() => compileGlob(""), /empty glob/);
  throws(() => compileGlob("/a/***"), /"\*\*\*"/);
  throws(() => compileGlob("/a/[bc"), /unclosed "\["/);
  throws(() => compileGlob("/a/b]"), /unmatched "\]"/);
  throws(() => compileGlob("/a/[]"), /unclosed|empty/);
});
