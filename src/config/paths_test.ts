import assert from "node:assert/strict";
import { configPaths, MANAGED_DOMAIN, platformPaths } from "./paths.ts";

const env = (vars: Record<string, string>) => ({ get: (n: string) => vars[n] });

Deno.test("platform paths and BM_* overrides", () => {
  assert.deepEqual(configPaths(env({}), "linux"), platformPaths("linux"));
  assert.equal(
    configPaths(env({}), "darwin").managed,
    `/Library/Managed Preferences/${MANAGED_DOMAIN}.plist`,
  );
  assert.deepEqual(
    configPaths(
      env({ BM_MANAGED_CONFIG: "/t/m.plist", BM_LOCAL_CONFIG: "/t/l.toml", BM_STATE_DIR: "/t/s" }),
      "darwin",
    ),
    { managed: "/t/m.plist", local: "/t/l.toml", stateDir: "/t/s" },
  );
  // Relative overrides are made absolute; empty ones are ignored.
  assert.equal(configPaths(env({ BM_STATE_DIR: "st" }), "linux").stateDir, `${Deno.cwd()}/st`);
  assert.equal(configPaths(env({ BM_LOCAL_CONFIG: "" }), "linux").local, "/etc/bm/bm.toml");
});
