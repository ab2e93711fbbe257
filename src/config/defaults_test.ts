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

Deno.test("the README's defaults table is SETTING_DOCS, row for row", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const lines = readme.split("\n");
  const head = lines.findIndex((l) => /^\| Key\s+\| Default\s+\| Meaning\s+\|$/.test(l));
  assert.ok(head >= 0, "README has a | Key | Default | Meaning | table");
  const cells = (l: string) =>
    l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replaceAll("\\|", "|"));
  const rows: string[][] = [];
  for (let i = head + 2; i < lines.length && lines[i]!.startsWith("|"); i++) {
    rows.push(cells(lines[i]!));
  }
  assert.deepEqual(
    rows,
    SETTING_DOCS.map((d) => [`\`${d.key}\``, `\`${d.default}\``, d.description]),
  );
});
