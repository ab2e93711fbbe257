/**
 * Config scale benchmark (issue 13 item 5): `bm config validate` on files
 * holding 200,000 unknown keys, per format. Target: under 2 s each, exit 0
 * with one warning line per key (unknown keys are warnings, not errors).
 *
 *   node_modules/.bin/deno run --allow-all bench/config_scale_bench.ts [--keys N] [--json FILE]
 *
 * Files (written to a temp dir, removed after): TOML, JSON (managed config),
 * XML plist, binary plist, XML .mobileconfig; each twice: the keys at the top
 * level, and inside a known section (`antivirusEngine`), where every unknown
 * key is also compared with the section's settings for a "did you mean".
 * Figures: the wall time of a real `bin/bm config validate FILE` (Deno start
 * included, stderr drained to a pipe) and, to separate parsing and checking
 * from start-up and printing, `readConfigFile` in this process. The least of
 * three runs each. This is a benchmark: it prints figures and asserts
 * nothing; config_file_test.ts asserts the behaviour with many keys.
 */
import { parseArgs } from "node:util";
import { readConfigFile } from "../src/config/config_file.ts";
import {
  binaryPlist,
  json,
  mobileconfig,
  toml,
  xmlPlist,
} from "../src/config/many_keys_test_utils.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    keys: { type: "string", default: "200000" },
    json: { type: "string" },
    runs: { type: "string", default: "3" },
  },
});
const N = Number(values.keys);
const RUNS = Number(values.runs);
const BM = new URL("../bin/bm", import.meta.url).pathname;

interface Case {
  name: string;
  file: string;
  bytes: Uint8Array;
}

function cases(n: number): Case[] {
  const enc = new TextEncoder();
  const out: Case[] = [];
  for (const section of [false, true]) {
    const where = section ? "in antivirusEngine" : "top level";
    out.push({ name: `TOML, ${where}`, file: "local.toml", bytes: enc.encode(toml(n, section)) });
    out.push({ name: `JSON, ${where}`, file: "managed.json", bytes: enc.encode(json(n, section)) });
    out.push({
      name: `XML plist, ${where}`,
      file: "managed.plist",
      bytes: enc.encode(xmlPlist(n, section)),
    });
    out.push({
      name: `binary plist, ${where}`,
      file: "managed.bin.plist",
      bytes: binaryPlist(n, section),
    });
  }
  out.push({
    name: "XML mobileconfig payload",
    file: "bm.mobileconfig",
    bytes: enc.encode(mobileconfig(n)),
  });
  return out;
}

interface Row {
  format: string;
  keys: number;
  bytes: number;
  cli_ms: number;
  cli_exit: number;
  warning_lines: number;
  in_process_ms: number;
  problems: number;
}

async function cliRun(path: string): Promise<{ ms: number; code: number; lines: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(BM, {
    args: ["config", "validate", path],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let lines = 0;
  for await (const chunk of child.stderr) {
    for (const b of chunk) if (b === 10) lines++;
  }
  const { code } = await child.status;
  return { ms: performance.now() - t0, code, lines };
}

const dir = await Deno.makeTempDir({ prefix: "bm_config_scale_" });
const rows: Row[] = [];
try {
  for (const c of cases(N)) {
    const path = `${dir}/${c.file}`;
    await Deno.writeFile(path, c.bytes);
    let cli = { ms: Infinity, code: -1, lines: 0 };
    for (let r = 0; r < RUNS; r++) {
      const run = await cliRun(path);
      if (run.ms < cli.ms) cli = run;
    }
    let inProcess = Infinity;
    let problems = 0;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const result = await readConfigFile(path, { checkOwner: false, rejectOnError: false });
      inProcess = Math.min(inProcess, performance.now() - t0);
      problems = result.problems.length;
    }
    const row: Row = {
      format: c.name,
      keys: N,
      bytes: c.bytes.length,
      cli_ms: Math.round(cli.ms),
      cli_exit: cli.code,
      warning_lines: cli.lines,
      in_process_ms: Math.round(inProcess),
      problems,
    };
    rows.push(row);
    console.log(
      `${c.name.padEnd(34)} ${(c.bytes.length / 1e6).toFixed(1).padStart(5)} MB  ` +
        `bm config validate ${String(row.cli_ms).padStart(6)} ms (exit ${row.cli_exit}, ` +
        `${row.warning_lines} lines)  readConfigFile ${String(row.in_process_ms).padStart(6)} ms ` +
        `(${row.problems} problems)`,
    );
    await Deno.remove(path);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
const worst = Math.max(...rows.map((r) => r.cli_ms));
console.log(`\n${N} unknown keys: slowest bm config validate ${worst} ms (target < 2000 ms)`);
if (values.json) {
  await Deno.writeTextFile(values.json, JSON.stringify({ keys: N, rows }, null, 2) + "\n");
}
