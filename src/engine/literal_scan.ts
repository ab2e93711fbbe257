/**
 * One pass over a string for many literals at once (Aho-Corasick): which of
 * the literals it contains, as the union of a bitset per literal. The rule
 * index (event_index.ts) scans a process's lower-cased command line once for
 * the literals of every exec rule instead of each rule searching it for its
 * own. Linear in the string's length; ASCII characters step through a table,
 * others through the trie's maps.
 */
export class LiteralScan {
  /**
   * Per node and ASCII character: the next node. 16 bits a cell while the
   * trie has at most 65,536 nodes (the default pack's command-line literals
   * make about 2,600: 128 cells a node, the daemon's largest table).
   */
  private readonly ascii: Uint16Array | Int32Array;
  /**
   * Per node: children by character. While building, all of them; once the
   * ASCII table is derived, only the non-ASCII ones (undefined when none),
   * the only characters `step` is still asked about.
   */
  private readonly next: (Map<number, number> | undefined)[] = [new Map()];
  private readonly fail: number[] = [0];
  /** Per node: the bits of every literal ending there or at a node its failure chain reaches. */
  private readonly out: (Uint32Array | undefined)[] = [undefined];

  /** `literals`: each with the bits it stands for (all of one length); none may be empty. */
  constructor(
    literals: readonly { text: string; bits: Uint32Array }[],
    private readonly words: number,
  ) {
    for (const { text, bits } of literals) {
      let n = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        let m = this.next[n]!.get(c);
        if (m === undefined) {
          m = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.out.push(undefined);
          this.next[n]!.set(c, m);
        }
        n = m;
      }
      this.out[n] = or(this.out[n], bits, words);
    }
    // Breadth first: failure links, and outputs merged along them.
    const queue: number[] = [...this.next[0]!.values()];
    for (let qi = 0; qi < queue.length; qi++) {
      const n = queue[qi]!;
      for (const [c, m] of this.next[n]!) {
        let f = this.fail[n]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const g = this.next[f]!.get(c);
        this.fail[m] = g !== undefined && g !== m ? g : 0;
        const fo = this.out[this.fail[m]!];
        if (fo !== undefined) this.out[m] = or(this.out[m], fo, words);
        queue.push(m);
      }
    }
    const nodes = this.next.length;
    this.ascii = nodes <= 0x10000 ? new Uint16Array(nodes * 128) : new Int32Array(nodes * 128);
    for (const n of [0, ...queue]) {
      for (let c = 0; c < 128; c++) this.ascii[n * 128 + c] = this.step(n, c);
    }
    // The ASCII transitions now live in the table: keep the maps' other characters only.
    for (let n = 0; n < nodes; n++) {
      let rest: Map<number, number> | undefined;
      for (const [c, m] of this.next[n]!) if (c >= 128) (rest ??= new Map()).set(c, m);
      this.next[n] = rest;
    }
  }

  private step(n: number, c: number): number {
    for (let s = n;; s = this.fail[s]!) {
      const m = this.next[s]?.get(c);
      if (m !== undefined) return m;
      if (s === 0) return 0;
    }
  }

  /** ORs into `acc` the bits of every literal `s` contains. */
  scan(s: string, acc: Uint32Array): void {
    const ascii = this.ascii;
    const out = this.out;
    const words = this.words;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      n = c < 128 ? ascii[n * 128 + c]! : this.step(n, c);
      const o = out[n];
      if (o !== undefined) { for (let w = 0; w < words; w++) acc[w]! |= o[w]!; }
    }
  }
}

function or(a: Uint32Array | undefined, b: Uint32Array, words: number): Uint32Array {
  const r = a === undefined ? new Uint32Array(words) : a;
  for (let w = 0; w < words; w++) r[w]! |= b[w]!;
  return r;
}
