/**
 * A table of lower-cased string keys looked up by a range of an event's
 * string, without making a string: V8's Map hashes a new string on every
 * lookup (50-200 ns for a file name), and the rule index looks up two or
 * three keys on every event. ASCII ranges are hashed and compared in place
 * with ASCII case folding, which is what `toLowerCase` does to ASCII text; a
 * range with any other character takes the exact path (slice, lower-case,
 * Map), so the answer is always that of `map.get(s.slice(a, b).toLowerCase())`.
 */
export class KeyTable<T> {
  private readonly byHash = new Map<number, { key: string; value: T }[]>();
  private readonly byKey = new Map<string, T>();

  /** Adds `key` (already lower-cased). */
  set(key: string, value: T): void {
    this.byKey.set(key, value);
    const h = asciiHash(key, 0, key.length);
    // A key with other characters can only match a range with other characters: the exact path.
    if (h < 0) return;
    let l = this.byHash.get(h);
    if (l === undefined) this.byHash.set(h, l = []);
    const at = l.findIndex((e) => e.key === key);
    if (at >= 0) l[at] = { key, value };
    else l.push({ key, value });
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The value of the key `s.slice(start, end).toLowerCase()`, if any. */
  get(s: string, start: number, end: number): T | undefined {
    const h = asciiHash(s, start, end);
    if (h < 0) return this.byKey.get(s.slice(start, end).toLowerCase());
    const l = this.byHash.get(h);
    if (l === undefined) return undefined;
    const n = end - start;
    for (const e of l) {
      const k = e.key;
      if (k.length !== n) continue;
      let i = 0;
      for (; i < n; i++) {
        let c = s.charCodeAt(start + i);
        if (c >= 65 && c <= 90) c += 32;
        if (c !== k.charCodeAt(i)) break;
      }
      if (i === n) return e.value;
    }
    return undefined;
  }

  /** The value of a whole key string (already lower-cased). */
  getKey(key: string): T | undefined {
    return this.byKey.get(key);
  }
}

/** FNV-1a over the ASCII-lower-cased range, as a non-negative Smi; -1 when a character is not ASCII. */
function asciiHash(s: string, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c >= 128) return -1;
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, 16777619);
  }
  return h & 0x3fffffff;
}
