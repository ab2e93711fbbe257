/**
 * Config files holding many unknown keys, in every format bm reads (issue 13
 * item 5): shared by the scale test (config_file_test.ts) and
 * bench/config_scale_bench.ts. The keys sit at the top level or inside a known
 * section (`antivirusEngine`), where each is also compared with the section's
 * settings for a "did you mean"; one in 1,000 is a near miss of a setting.
 */

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/**
 * Unknown key names. One in 1,000 is `behaviorMonitorin` and two letters, at
 * edit distance 2 of the setting `behaviorMonitoring`, so suggestions are computed.
 */
export function keyName(i: number): string {
  if (i % 1000 !== 0) return `unknownKey${i}`;
  const k = i / 1000;
  return `behaviorMonitorin${String.fromCharCode(97 + Math.floor(k / 26) % 26, 97 + k % 26)}`;
}

/** TOML: key i on line i + 1 (i + 2 in the section). */
export function toml(n: number, section: boolean): string {
  const lines = section ? ["[antivirusEngine]"] : [];
  for (let i = 0; i < n; i++) lines.push(`${keyName(i)} = ${i}`);
  return lines.join("\n") + "\n";
}

/** JSON, two-space indented: key i on line i + 2 (i + 3 in the section). */
export function json(n: number, section: boolean): string {
  const dict: Record<string, number> = {};
  for (let i = 0; i < n; i++) dict[keyName(i)] = i;
  return JSON.stringify(section ? { antivirusEngine: dict } : dict, null, 2) + "\n";
}

function plistDict(n: number): string {
  const parts: string[] = ["<dict>"];
  for (let i = 0; i < n; i++) {
    parts.push(`<key>${xmlEscape(keyName(i))}</key><integer>${i}</integer>`);
  }
  parts.push("</dict>");
  return parts.join("\n");
}

const PLIST_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" ' +
  '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n';

/** XML plist: key i on line i + 5 (the section's dict opens on line 4 too). */
export function xmlPlist(n: number, section: boolean): string {
  const body = section ? `<dict><key>antivirusEngine</key>${plistDict(n)}</dict>` : plistDict(n);
  return `${PLIST_HEAD}${body}\n</plist>\n`;
}

/** An XML .mobileconfig whose com.microsoft.wdav payload holds the keys. */
export function mobileconfig(n: number): string {
  const payload = plistDict(n).replace(
    "<dict>",
    "<dict><key>PayloadType</key><string>com.microsoft.wdav</string>" +
      "<key>PayloadIdentifier</key><string>bench.bm</string>",
  );
  return `${PLIST_HEAD}<dict><key>PayloadType</key><string>Configuration</string>` +
    `<key>PayloadContent</key><array>${payload}</array></dict>\n</plist>\n`;
}

/**
 * A binary plist (bplist00) of a dict of `n` ASCII keys to one shared integer,
 * optionally nested under `antivirusEngine`. Objects: [outer dict, section
 * name], inner dict, the keys, the value; 4-byte refs and offsets.
 */
export function binaryPlist(n: number, section: boolean): Uint8Array {
  const objects: Uint8Array[] = [];
  const enc = new TextEncoder();
  const marker = (type: number, count: number): number[] => {
    if (count < 15) return [type | count];
    return [
      type | 0xf,
      0x12,
      (count >>> 24) & 0xff,
      (count >>> 16) & 0xff,
      (count >>> 8) & 0xff,
      count & 0xff,
    ];
  };
  const ref = (r: number) => [(r >>> 24) & 0xff, (r >>> 16) & 0xff, (r >>> 8) & 0xff, r & 0xff];
  const ascii = (s: string) => new Uint8Array([...marker(0x50, s.length), ...enc.encode(s)]);
  const base = section ? 2 : 0; // outer dict and its one key come first
  const inner = base;
  const firstKey = inner + 1;
  const value = firstKey + n;
  if (section) {
    objects.push(new Uint8Array([0xd1, ...ref(1), ...ref(inner)]));
    objects.push(ascii("antivirusEngine"));
  }
  const dict: number[] = marker(0xd0, n);
  for (let i = 0; i < n; i++) dict.push(...ref(firstKey + i));
  for (let i = 0; i < n; i++) dict.push(...ref(value));
  objects.push(new Uint8Array(dict));
  for (let i = 0; i < n; i++) objects.push(ascii(keyName(i)));
  objects.push(new Uint8Array([0x10, 1]));
  const header = enc.encode("bplist00");
  let size = header.length;
  const offsets: number[] = [];
  for (const o of objects) {
    offsets.push(size);
    size += o.length;
  }
  const tableAt = size;
  const out = new Uint8Array(size + offsets.length * 4 + 32);
  out.set(header, 0);
  let at = header.length;
  for (const o of objects) {
    out.set(o, at);
    at += o.length;
  }
  for (const off of offsets) {
    out.set(ref(off), at);
    at += 4;
  }
  const trailer = new DataView(out.buffer, at, 32);
  trailer.setUint8(6, 4); // offset size
  trailer.setUint8(7, 4); // object ref size
  trailer.setBigUint64(8, BigInt(objects.length));
  trailer.setBigUint64(16, 0n); // top object
  trailer.setBigUint64(24, BigInt(tableAt));
  return out;
}
