/**
 * The macOS install material, checked as far as Linux allows: every plist
 * parses (python3 plistlib), `bm config validate` accepts the MDM settings
 * samples, the LaunchDaemon, entitlements and PPPC payload say what the
 * install relies on, and the shell scripts parse. Nothing here runs launchd,
 * codesign, pkgbuild or TCC: see packaging/macos/README.md.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const mac = `${root}packaging/macos`;
const dec = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(cmd, {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** Parses a plist with Python's plistlib and returns it as JSON-compatible data. */
async function plist(path: string): Promise<Record<string, unknown>> {
  const py = "import json,plistlib,sys\n" +
    "print(json.dumps(plistlib.load(open(sys.argv[1],'rb')), default=str))";
  const r = await run("python3", ["-c", py, path]);
  assert.equal(r.code, 0, `${path} is not a valid plist: ${r.err}`);
  return JSON.parse(r.out);
}

type Dict = Record<string, unknown>;
const d = (v: unknown) => v as Dict;
const a = (v: unknown) => v as Dict[];

const SAMPLES = [
  `${mac}/mdm/org.bm-project.bm.mobileconfig`,
  `${mac}/mdm/org.bm-project.bm.plist`,
];

for (const file of SAMPLES) {
  const name = file.slice(mac.length + 1);
  Deno.test(`bm config validate accepts ${name} with behavior monitoring fully on`, async () => {
    const r = await run(`${root}bin/bm`, ["config", "validate", file, "--output", "json"]);
    assert.equal(r.code, 0, r.out + r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.valid, true);
    assert.deepEqual(doc.problems, []);
    assert.deepEqual(doc.settings, {
      antivirusEngine: { behaviorMonitoring: "enabled", enforcementLevel: "real_time" },
      features: {
        behaviorMonitoring: "enabled",
        behaviorMonitoringConfigurations: {
          blockExecution: "enabled",
          notifyForks: "enabled",
          forwardRtpToBm: "enabled",
          avoidOpenCache: "enabled",
        },
      },
    });
  });
}

Deno.test("bm config validate rejects a settings sample with a wrong value (exit 2)", async () => {
  const text = await Deno.readTextFile(SAMPLES[0]!);
  const bad = text.replace("<string>real_time</string>", "<string>sometimes</string>");
  assert.notEqual(bad, text);
  const dir = await Deno.makeTempDir({ prefix: "bm_mdm_" });
  try {
    await Deno.writeTextFile(`${dir}/bad.mobileconfig`, bad);
    const r = await run(`${root}bin/bm`, ["config", "validate", `${dir}/bad.mobileconfig`]);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.out + r.err, /enforcementLevel/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every macOS plist parses and profiles have unique well-formed payload UUIDs", async () => {
  const files = [
    ...SAMPLES,
    `${mac}/mdm/bm-pppc.mobileconfig`,
    `${mac}/mdm/bm-background-items.mobileconfig`,
    `${mac}/org.bm-project.bm.plist`,
    `${mac}/Info.plist`,
    `${mac}/bm.entitlements`,
  ];
  const uuids: string[] = [];
  for (const f of files) {
    const p = await plist(f);
    if (!f.endsWith(".mobileconfig")) continue;
    assert.equal(p.PayloadType, "Configuration", f);
    assert.equal(p.PayloadScope, "System", f);
    for (const payload of [p, ...a(p.PayloadContent)]) {
      assert.match(String(payload.PayloadUUID), /^[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}$/, f);
      assert.equal(typeof payload.PayloadIdentifier, "string", f);
      assert.equal(payload.PayloadVersion, 1, f);
      uuids.push(String(payload.PayloadUUID));
    }
  }
  assert.equal(new Set(uuids).size, uuids.length, "payload UUIDs must be unique");
});

Deno.test("the PPPC payload grants Full Disk Access to bm's bundle id with a marked placeholder", async () => {
  const p = await plist(`${mac}/mdm/bm-pppc.mobileconfig`);
  const tcc = a(p.PayloadContent).find((x) =>
    x.PayloadType === "com.apple.TCC.configuration-profile-policy"
  );
  assert.ok(tcc, "no com.apple.TCC.configuration-profile-policy payload");
  const fda = a(d(tcc.Services).SystemPolicyAllFiles);
  assert.equal(fda.length, 1);
  const entry = fda[0]!;
  assert.equal(entry.Identifier, "org.bm-project.bm");
  assert.equal(entry.IdentifierType, "bundleID");
  assert.equal(entry.Allowed, true);
  assert.match(
    String(entry.CodeRequirement),
    /^identifier "org\.bm-project\.bm" and anchor apple generic/,
  );
  assert.match(String(entry.CodeRequirement), /REPLACE_WITH_TEAM_ID/);
});

Deno.test("the LaunchDaemon runs `bm daemon` as root with a root-only TMPDIR and restarts on failure", async () => {
  const p = await plist(`${mac}/org.bm-project.bm.plist`);
  const info = await plist(`${mac}/Info.plist`);
  assert.equal(p.Label, "org.bm-project.bm");
  assert.equal(info.CFBundleIdentifier, p.Label);
  const args = p.ProgramArguments as string[];
  assert.deepEqual(args.slice(1), ["daemon"]);
  assert.equal(
    args[0],
    `/Library/Application Support/bm/bm.app/Contents/MacOS/${info.CFBundleExecutable}`,
  );
  assert.equal(p.UserName, "root");
  assert.equal(p.Umask, 0o077);
  assert.deepEqual(p.KeepAlive, { SuccessfulExit: false });
  assert.equal(p.RunAtLoad, true);
  const tmp = String(d(p.EnvironmentVariables).TMPDIR);
  assert.equal(tmp, "/Library/Application Support/bm/tmp/");
  // the postinstall script creates exactly that directory 0700 root:wheel
  const post = await Deno.readTextFile(`${mac}/scripts/postinstall`);
  assert.match(post, /for d in tmp state; do/);
  assert.match(post, /\/bin\/chmod 0700 "\$support\/\$d"/);
  assert.match(post, /support="\$root\/Library\/Application Support\/bm"/);
});

Deno.test("the entitlements hold the EndpointSecurity client entitlement and no library-validation bypass", async () => {
  const p = await plist(`${mac}/bm.entitlements`);
  assert.equal(p["com.apple.developer.endpoint-security.client"], true);
  assert.equal(p["com.apple.security.cs.disable-library-validation"], undefined);
});

Deno.test("the install scripts and release recipe parse", async () => {
  for (const s of ["scripts/preinstall", "scripts/postinstall"]) {
    const r = await run("sh", ["-n", `${mac}/${s}`]);
    assert.equal(r.code, 0, `${s}: ${r.err}`);
    assert.ok((await Deno.stat(`${mac}/${s}`)).mode! & 0o100, `${s} must be executable`);
  }
  const r = await run("bash", ["-n", `${mac}/build_release.sh`]);
  assert.equal(r.code, 0, r.err);
  const recipe = await Deno.readTextFile(`${mac}/build_release.sh`);
  for (const target of ["aarch64-apple-darwin", "x86_64-apple-darwin"]) {
    assert.ok(recipe.includes(target), `release recipe lacks ${target}`);
  }
  const compile = recipe.match(/"\$deno" compile [^]*?main\.ts/)?.[0] ?? "";
  assert.match(compile, /--include dylib\/build\/libbm_sensor\.dylib/);
  const granted = [...compile.matchAll(/--allow-[a-z]+(=[a-z,]+)?/g)].map((m) => m[0]).sort();
  assert.deepEqual(granted, [
    "--allow-env",
    "--allow-ffi",
    "--allow-read",
    "--allow-run",
    "--allow-sys=hostname,uid",
    "--allow-write",
  ]);
});
