import assert from "node:assert/strict";
import { defaultSettings, renderDefaultsTable, SETTING_DOCS } from "./defaults.ts";
import { platformPaths } from "./paths.ts";
import { getPath, SETTING_KEYS, SettingsSchema } from "./schema.ts";

Deno.test("every setting has exactly one documented default, in schema order", () => {
  assert.deepEqual(SETTING_DOCS.map((d) => d.key), [...SETTING_KEYS]);
});

Deno.test("the defaults pass the schema on both platforms", () => {
  for (const platform of ["linux", "darwin"] as const) {
    const r = SettingsSchema.safeParse(defaultSettings(platformPaths(platform)));
    assert.equal(r.success, true, JSON.stringify(r.error?.issues));
  }
});

Deno.test("documented defaults match the values (except state-dir paths and unset keys)", () => {
  const d = defaultSettings({ managed: "/m", local: "/l", stateDir: "STATE_DIR" });
  for (const doc of SETTING_DOCS) {
    const v = getPath(d, doc.key);
    const shown = v === undefined
      ? "(unset)"
      : typeof v === "string" && v.startsWith("STATE_DIR")
      ? v
      : JSON.stringify(v);
    assert.equal(shown, doc.default, doc.key);
  }
  assert.match(renderDefaultsTable(), /^\| Key \| Default \| Meaning \|/);
});
