/**
 * Fuzzing `bm config validate` (issue 13): random and structured mutations of
 * TOML, JSON, XML and binary plists. Every case must end in exit 0 (the
 * mutation stayed valid) or exit 2 with one-line problems naming the file,
 * never a crash, a stack trace or a changed file. The cases run in-process
 * through main() (the path the CLI takes, so CI time stays small); a handful
 * run through the real bin/bm.
 */
import assert from "node:assert/strict";
import { main } from "../../main.ts";
import { FIXTURES } from "./config_test_utils.ts";
import { runBm } from "../cli/run_bm_test_utils.ts";

const CASES = Number(Deno.env.get("BM_FUZZ_CASES") ?? 10_000);

/** Deterministic PRNG (mulberry32), so a failing case can be replayed by its number. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();
const SEEDS: [string, Uint8Array][] = [
  [
    "toml",
    enc.encode(
      '[antivirusEngine]\nbehaviorMonitoring = "enabled"\nenforcementLevel = "real_time"\n' +
        '[[antivirusEngine.exclusions]]\n"$type" = "excludedPath"\npath = "/opt/x"\nisDirectory = true\n' +
        '[features.behaviorMonitoringConfigurations]\nblockExecution = "enabled"\n[sensor]\nauthDeadlineMs = 5000\n',
    ),
  ],
  [
    "json",
    enc.encode(JSON.stringify(
      {
        antivirusEngine: {
          behaviorMonitoring: "enabled",
          exclusions: [{ $type: "excludedFileName", name: "a" }],
        },
        features: { behaviorMonitoring: "enabled" },
        sensor: { authDeadlineMs: 5000, failOpen: "allow" },
      },
      null,
      2,
    )),
  ],
  ["plist", Deno.readFileSync(`${FIXTURES}jamf.plist`)],
  ["plist", Deno.readFileSync(`${FIXTURES}jamf.bin.plist`)],
  ["mobileconfig", Deno.readFileSync(`${FIXTURES}intune.mobileconfig`)],
];

const TOKENS = [
  "__proto__",
  "constructor",
  "prototype",
  "\n",
  "\r",
  "\t",
  "\0",
  '"',
  "'",
  "[",
  "]",
  "{",
  "}",
  "<dict>",
  "</dict>",
  "<key>",
  "</key>",
  "<array>",
  "<integer>99999999999999999999999</integer>",
  "=",
  ":",
  ",",
  "[[a]]",
  "[__proto__]",
  '"__proto__": {"x": 1}, ',
  "<key>__proto__</key><dict/>",
  "1e400",
  "-0",
  "NaN",
  "\u{FFFF}",
  "\xff\xfe",
  "k".repeat(5_000),
  "[".repeat(2_000),
  "{".repeat(2_000),
];

function mutate(seed: Uint8Array, r: () => number): Uint8Array {
  let b = seed.slice();
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (b.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0: // flip a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = Math.floor(r() * 256);
        break;
      case 1: // cut the file short
        b = b.slice(0, at);
        break;
      case 2: // delete a run
        b = new Uint8Array([...b.slice(0, at), ...b.slice(at + Math.floor(r() * 64))]);
        break;
      case 3: // duplicate a run
        b = new Uint8Array([...b.slice(0, at), ...b.slice(at, at + 64), ...b.slice(at)]);
        break;
      default: { // insert a token of the formats' syntax
        const t = TOKENS[Math.floor(r() * TOKENS.length)]!;
        const raw = t === "\xff\xfe" ? new Uint8Array([0xff, 0xfe]) : enc.encode(t);
        b = new Uint8Array([...b.slice(0, at), ...raw, ...b.slice(at)]);
      }
    }
  }
  return b;
}

/** Runs main() with the console captured; returns the exit code and what it printed. */
async function validateInProcess(path: string): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const { log, error } = console;
  console.log = () => {};
  console.error = (...a: unknown[]) => {
    err.push(a.map(String).join(" "));
  };
  try {
    return { code: await main(["config", "validate", path]), err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

function check(path: string, code: number, stderr: string[], what: string): void {
  assert.ok(code === 0 || code === 2, `${what}: exit ${code}: ${stderr.join("\n")}`);
  for (const line of stderr.flatMap((l) => l.split("\n"))) {
    assert.ok(line.startsWith(path), `${what}: a line not naming the file: ${line.slice(0, 300)}`);
    assert.ok(!/Internal error|^\s+at /.test(line), `${what}: ${line.slice(0, 300)}`);
  }
  if (code === 2) assert.ok(stderr.length > 0, `${what}: exit 2 says nothing`);
}

Deno.test(`config validate fuzz: ${CASES} mutated TOML, JSON, XML and binary plists exit 0 or 2, one line each, files unchanged`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "bm_config_fuzz_" });
  try {
    const r = rng(13);
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const [ext, seed] = SEEDS[i % SEEDS.length]!;
      const bytes = mutate(seed, r);
      const path = `${dir}/case.${ext}`;
      await Deno.writeFile(path, bytes);
      const { code, err } = await validateInProcess(path);
      check(path, code, err, `case ${i} (${ext})`);
      assert.deepEqual(await Deno.readFile(path), bytes, `case ${i}: the file changed`);
      if (code === 2) refused++;
    }
    // The mutations must mostly break the files, or the test proves little.
    assert.ok(refused > CASES / 2, `only ${refused} of ${CASES} cases refused`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config validate fuzz: a handful of cases through the real bin/bm", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bm_config_fuzz_cli_" });
  try {
    const r = rng(1313);
    for (let i = 0; i < SEEDS.length; i++) {
      const [ext, seed] = SEEDS[i]!;
      const bytes = mutate(seed, r);
      const path = `${dir}/case${i}.${ext}`;
      await Deno.writeFile(path, bytes);
      const out = await runBm(["config", "validate", path]);
      check(path, out.code, out.stderr.trimEnd().split("\n").filter((l) => l !== ""), `cli ${i}`);
      assert.deepEqual(await Deno.readFile(path), bytes);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
