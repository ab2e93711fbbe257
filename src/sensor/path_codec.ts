/**
 * Paths are bytes: the lossless text form of a file name.
 *
 * Linux file names are any bytes but NUL and "/"; bm's events, rules, store,
 * CLI and export hold paths as strings. A path crosses into a string with
 * `bytesToPath` and back to the exact bytes with `pathToBytes`:
 *
 * - bytes that form valid UTF-8 are the characters they encode;
 * - a byte that is not part of a valid UTF-8 sequence becomes `\xNN`
 *   (two lowercase hex digits);
 * - a backslash becomes `\\`, so a name that holds the text `\xff` (written
 *   `\\xff`) never reads as the byte 0xff.
 *
 * `pathToBytes(bytesToPath(b))` is `b` for every byte string. Paths without
 * a backslash or invalid byte (nearly all) are unchanged.
 */

const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const encoder = new TextEncoder();
const BACKSLASH = 0x5c;
const HEX = "0123456789abcdef";

/** The text form of the path bytes `b` (see the module comment). */
export function bytesToPath(b: Uint8Array): string {
  if (b.length === 0) return "";
  const s = decoder.decode(b);
  // Fast path: valid UTF-8 with no backslash decodes to itself. A real U+FFFD
  // in the name also takes the slow path, which keeps it.
  if (!s.includes("\uFFFD") && !s.includes("\\")) return s;
  let out = "";
  let start = 0; // first byte of the valid run not yet appended
  let i = 0;
  const flush = (end: number) => {
    if (end > start) out += decoder.decode(b.subarray(start, end));
  };
  while (i < b.length) {
    const c = b[i]!;
    if (c === BACKSLASH) {
      flush(i);
      out += "\\\\";
      start = ++i;
      continue;
    }
    const n = validSequence(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    flush(i);
    out += `\\x${HEX[c >> 4]}${HEX[c & 15]}`;
    start = ++i;
  }
  flush(i);
  return out;
}

/**
 * The bytes the text form `s` stands for. A backslash not followed by `\` or
 * `x` and two hex digits is taken literally (hand-written paths).
 */
export function pathToBytes(s: string): Uint8Array {
  if (!s.includes("\\")) return encoder.encode(s);
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (p: Uint8Array) => {
    parts.push(p);
    size += p.length;
  };
  let start = 0;
  let i = s.indexOf("\\");
  while (i >= 0) {
    if (i > start) push(encoder.encode(s.slice(start, i)));
    const next = s[i + 1];
    if (next === "\\") {
      push(Uint8Array.of(BACKSLASH));
      start = i + 2;
    } else if (next === "x" && isHex(s[i + 2]) && isHex(s[i + 3])) {
      push(Uint8Array.of(parseInt(s.slice(i + 2, i + 4), 16)));
      start = i + 4;
    } else {
      push(Uint8Array.of(BACKSLASH));
      start = i + 1;
    }
    i = s.indexOf("\\", start);
  }
  if (start < s.length) push(encoder.encode(s.slice(start)));
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The path as the OS string Deno's file APIs take, or undefined when its bytes
 * are not valid UTF-8 (then only byte-level calls can name it).
 */
export function pathToOsString(s: string): string | undefined {
  if (!s.includes("\\")) return s;
  const b = pathToBytes(s);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    return undefined;
  }
}

// C0, DEL and C1: matching control characters is the point.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * The text form for a terminal: control characters (C0, DEL, C1: a newline,
 * an escape sequence) also as `\xNN` of their UTF-8 bytes, so a name cannot
 * break a line or drive the terminal. Still a text form: `pathToBytes` reads
 * it back to the same bytes, since a real byte never reads `\xNN` when it is
 * valid UTF-8.
 */
export function displayPath(s: string): string {
  return s.replace(
    CONTROL,
    (c) => [...encoder.encode(c)].map((b) => `\\x${HEX[b >> 4]}${HEX[b & 15]}`).join(""),
  );
}

/** Escapes a path Deno already holds as a string (valid UTF-8): only backslashes change. */
export function osStringToPath(s: string): string {
  return s.includes("\\") ? s.replaceAll("\\", "\\\\") : s;
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

/** Length of the valid UTF-8 sequence at `i` (1-4), or 0 when the byte there starts none. */
function validSequence(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let lo = 0x80, hi = 0xbf; // bounds of the second byte (RFC 3629 table)
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0; // no overlongs
    if (c === 0xed) hi = 0x9f; // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90;
    if (c === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + n > b.length) return 0;
  const c1 = b[i + 1]!;
  if (c1 < lo || c1 > hi) return 0;
  for (let k = 2; k < n; k++) {
    const ck = b[i + k]!;
    if (ck < 0x80 || ck > 0xbf) return 0;
  }
  return n;
}
