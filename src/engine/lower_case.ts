/**
 * `s.toLowerCase()`, remembered for the last few strings: one event's
 * conditions lower-case the same command line, path or argument once per
 * rule that ignores case (dozens for an imported Sigma pack), and every call
 * makes a new string. Strings are compared by value, so the answer is always
 * that of `toLowerCase`.
 */
const SLOTS = 8;
const keys: (string | undefined)[] = new Array(SLOTS).fill(undefined);
const values: string[] = new Array(SLOTS).fill("");
let next = 0;

export function lowerCase(s: string): string {
  for (let i = 0; i < SLOTS; i++) if (keys[i] === s) return values[i]!;
  const v = s.toLowerCase();
  keys[next] = s;
  values[next] = v;
  next = (next + 1) % SLOTS;
  return v;
}
