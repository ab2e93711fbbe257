import { equal, throws } from "node:assert/strict";
import { compileGlob, globSource } from "./glob.ts";

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

Deno.test("glob: the direct tests of common shapes agree with the glob's regular expression", () => {
  const globs = [
    "/etc/passwd",
    "/home/**",
    "**",
    "**/.ssh/id_rsa",
    "**.service",
    "**/.git/**",
    "/home/*/.bashrc",
    "/tmp/*",
    "*.sh",
    "/tmp/go-build*/**",
    "/a/**/b",
    "/x/?.sh",
    "/Users/*/Library/**",
  ];
  const paths = [
    "/etc/passwd",
    "/etc/passwdx",
    "/home",
    "/home/",
    "/home/u/.bashrc",
    "/home/u/x/.bashrc",
    "/home//.bashrc",
    "/home/.bashrc",
    ".ssh/id_rsa",
    "/root/.ssh/id_rsa",
    "x.ssh/id_rsa",
    "a.service",
    ".git/x",
    "/r/.git/x",
    "/r/.gitx/y",
    "/r/.git",
    "/tmp/a",
    "/tmp/a/b",
    "/tmp/",
    "a.sh",
    "/a.sh",
    "/tmp/go-build1/x",
    "/tmp/go-build1",
    "/a/b",
    "/a/x/b",
    "/x/a.sh",
    "/users/u/library/x",
    "/Users/U/Library/x\ny",
    "",
  ];
  for (const g of globs) {
    for (const ci of [false, true]) {
      const re = new RegExp(globSource(ci ? g.toLowerCase() : g), "s");
      const t = compileGlob(g, ci);
      for (const p of paths) {
        equal(t(p), re.test(ci ? p.toLowerCase() : p), `${g} ${ci ? "(ci) " : ""}~ ${p}`);
      }
    }
  }
});
