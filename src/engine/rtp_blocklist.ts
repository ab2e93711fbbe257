/**
 * The forwardRtpToBm SHA-256 blocklist (policies/rtp_blocklist.txt): one
 * lower-case hex SHA-256 per line, `#` comments. Read here (I/O stays out of
 * the engine); the Engine takes the Set as `rtpBlocklist`.
 */
import { InputError } from "../errors.ts";
import { readTrustedFileSync, UntrustedFileError } from "../trusted_file.ts";

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

/**
 * Reads a blocklist file, checked and read through one descriptor
 * (trusted_file.ts); refuses one another user could change unless told not to check.
 */
export function loadRtpBlocklist(
  path: string,
  opts: { requireRootOwned?: boolean } = {},
): Promise<Set<string>> {
  let text: string;
  try {
    text = new TextDecoder().decode(
      readTrustedFileSync(path, { check: opts.requireRootOwned ?? true }),
    );
  } catch (e) {
    if (e instanceof UntrustedFileError) return Promise.reject(new InputError(e.message));
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    return Promise.reject(new InputError(`Cannot read "${path}": ${why}`));
  }
  try {
    return Promise.resolve(parseRtpBlocklist(text, path));
  } catch (e) {
    return Promise.reject(e);
  }
}
