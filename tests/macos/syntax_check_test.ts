/**
 * The macOS sensor cannot be built here (no SDK); scripts/check_macos_syntax.sh
 * compiles it with `clang -fsyntax-only` against test-only EndpointSecurity
 * declarations. These tests show the check passes on the real sources and
 * fails on copies with a wrong ES or libproc call, a misspelt ES or
 * proc_bsdinfo field or a wrong type, and on a shared-core copy that calls
 * what macOS's libc lacks.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const script = `${root}scripts/check_macos_syntax.sh`;
const sensor = `${root}dylib/macos/bm_sensor_macos.m`;
const esMap = `${root}dylib/macos/es_map.c`;
const core = `${root}dylib/common/core.c`;
const procMacos = `${root}dylib/macos/proc_macos.c`;

async function check(...files: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("bash", {
    args: [script, ...files],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/**
 * Copies `file` into a temp dir with one replacement; fails if `from` is not in
 * it. The copy keeps its parent folder's name (the script checks common/*.c as
 * macOS code).
 */
async function mutated(file: string, from: string, to: string): Promise<string> {
  const text = await Deno.readTextFile(file);
  assert.ok(text.includes(from), `"${from}" no longer in ${file}: update this test`);
  const dir = await Deno.makeTempDir({ prefix: "bm_macos_syntax_" });
  const [parent, name] = file.split("/").slice(-2);
  await Deno.mkdir(`${dir}/${parent}`);
  const out = `${dir}/${parent}/${name}`;
  await Deno.writeTextFile(out, text.replace(from, to));
  return out;
}

Deno.test("the macOS sensor sources pass the clang syntax check", async () => {
  const r = await check();
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /ok .*bm_sensor_macos\.m/);
  assert.match(r.out, /ok .*es_map\.c/);
  assert.match(r.out, /ok .*proc_macos\.c/);
  assert.match(r.out, /ok .*common\/core\.c/);
  assert.match(r.out, /ok .*common\/macos_translate\.c/);
});

const broken: { name: string; file: string; from: string; to: string; error: RegExp }[] = [
  {
    name: "es_respond_flags_result without its message argument",
    file: sensor,
    from: "es_respond_flags_result(c->client, h->msg, ",
    to: "es_respond_flags_result(c->client, ",
    error: /too few arguments/,
  },
  {
    name: "es_subscribe with its count and event list swapped",
    file: sensor,
    from: "es_subscribe(c->client, ev, n)",
    to: "es_subscribe(c->client, n, ev)",
    error: /incompatible integer to pointer conversion/,
  },
  {
    name: "es_respond_auth_result with an extra argument",
    file: sensor,
    from: "allow ? ES_AUTH_RESULT_ALLOW : ES_AUTH_RESULT_DENY, cache);",
    to: "allow ? ALLOW_ALL_FLAGS : 0u, cache, 1);",
    error: /too many arguments/,
  },
  {
    name: "a misspelt es_message_t field",
    file: sensor,
    from: "msg->deadline,",
    to: "msg->deadline_ms,",
    error: /no member named 'deadline_ms'/,
  },
  {
    name: "es_exec_arg without the index",
    file: esMap,
    from: "es_exec_arg((const es_event_exec_t *)ctx, i)",
    to: "es_exec_arg((const es_event_exec_t *)ctx)",
    error: /too few arguments/,
  },
  {
    name: "proc_pidinfo without its flavor argument",
    file: procMacos,
    from: "proc_pidinfo(pid, PROC_PIDTBSDINFO, 0, &info, (int)sizeof info)",
    to: "proc_pidinfo(pid, 0, &info, (int)sizeof info)",
    error: /too few arguments/,
  },
  {
    name: "a misspelt proc_bsdinfo field",
    file: procMacos,
    from: "info.pbi_start_tvusec",
    to: "info.pbi_start_usec",
    error: /no member named 'pbi_start_usec'/,
  },
  {
    name: "proc_listchildpids without its buffer size",
    file: procMacos,
    from: "proc_listchildpids((pid_t)pid, out, cap * (int)sizeof *out)",
    to: "proc_listchildpids((pid_t)pid, out)",
    error: /too few arguments/,
  },
  {
    name: "the core choosing a cond clock (macOS has no pthread_condattr_setclock)",
    file: core,
    from: "  return pthread_cond_init(c, NULL);\n#else",
    to: "  pthread_condattr_t ca;\n  pthread_condattr_init(&ca);\n" +
      "  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);\n  return pthread_cond_init(c, &ca);\n#else",
    error: /pthread_condattr_setclock/,
  },
  {
    name: "the core's relative wait without its timeout",
    file: core,
    from: "pthread_cond_timedwait_relative_np(c, m, &ts);",
    to: "pthread_cond_timedwait_relative_np(c, m);",
    error: /too few arguments/,
  },
];

for (const b of broken) {
  Deno.test(`the clang syntax check fails on ${b.name}`, async () => {
    const file = await mutated(b.file, b.from, b.to);
    try {
      const r = await check(file);
      assert.notEqual(r.code, 0, `check passed a broken copy:\n${r.out}`);
      assert.match(r.out, b.error);
      assert.match(r.out, /FAILED /);
    } finally {
      await Deno.remove(file.split("/").slice(0, -2).join("/"), { recursive: true });
    }
  });
}
