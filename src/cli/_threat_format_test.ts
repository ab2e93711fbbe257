import assert from "node:assert/strict";
import type { BmEvent } from "../sensor/event.ts";
import { pathToBytes } from "../sensor/path_codec.ts";
import { commandLine, eventText, quarantineTable } from "./_threat_format.ts";

// The text form of the bytes "/tmp/x" LF ESC "[2J" 0xff (path_codec.ts): a name that would
// break the line and clear the screen if printed raw.
const NAME = "/tmp/x\n\x1b[2J\\xff";
const SHOWN = "/tmp/x\\x0a\\x1b[2J\\xff";

Deno.test("CLI text: paths show control characters as \\xNN, still the same bytes", () => {
  assert.deepEqual(pathToBytes(SHOWN), pathToBytes(NAME));
  const ev: BmEvent = {
    "@timestamp": 0,
    event: { action: "rename" },
    process: { pid: 5, executable: NAME },
    file: { path: NAME, target_path: `${NAME}2` },
  };
  const line = eventText(ev);
  assert.ok(!line.includes("\n") && !line.includes("\x1b"), line);
  assert.ok(line.includes(`file ${SHOWN}  -> ${SHOWN}2`), line);
  const table = quarantineTable([{
    id: "q",
    threat_id: "t",
    original_path: NAME,
    uid: 0,
    gid: 0,
    mode: 0o755,
    size: 1,
    sha256: "0".repeat(64),
    quarantined_time: 0,
  }]);
  assert.equal(table.split("\n").length, 2);
  assert.ok(table.endsWith(SHOWN), table);
});

Deno.test("CLI text: an argument with a control character is JSON-quoted", () => {
  assert.equal(commandLine(NAME, ["x", "a\x1bb", "plain"]), `${SHOWN} "a\\u001bb" plain`);
});
