/**
 * The forwardRtpToBm SHA-256 blocklist (policies/rtp_blocklist.txt): one
 * lower-case hex SHA-256 per line, `#` comments. Read here (I/O stays out of
 * the engine); the Engine takes the Set as `rtpBlocklist`.
 */
import { InputError } from "../errors.ts";

/** Parses blocklist text; throws InputError naming file and line on a bad entry. */
export function parseRtpBlocklist(text: string, file = "<blocklist>"): Set<string> {
  const out = new Set<string>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const h = line.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(h)) {
      throw new InputError(`Bad blocklist "${file}" line ${i + 1}: not a SHA-256: "${line}"`);
    }
    out.add(h);
  });
  return out;
}

/** Reads a blocklist file; refuses one writable by non-root users unless told not to check. */
export async function loadRtpBlocklist(
  path: string,
  opts: { requireRootOwned?: boolean } = {},
): Promise<Set<string>> {
  let text: string;
  try {
    if (opts.requireRootOwned ?? true) {
      const st = await Deno.stat(path);
      if ((st.uid !== null && st.uid !== 0) || (st.mode !== null && (st.mode & 0o022) !== 0)) {
        throw new InputError(`Refusing "${path}": writable by a user other than root`);
      }
    }
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new InputError(`Cannot read "${path}": ${why}`);
  }
  return parseRtpBlocklist(text, path);
}
