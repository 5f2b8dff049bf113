/**
 * A minimal lossless WebP (VP8L) encoder: no transforms, no colour cache, no back-references,
 * one Huffman code group built from the pixel histogram. /view?preview=webp;90 answers with WebP on
 * the real server (recording j_view), so the simulator returns a genuine, decodable WebP.
 */

class LsbWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  /** write `len` bits of `value`, least significant bit first (VP8L bit order) */
  bits(value: number, len: number): void {
    for (let i = 0; i < len; i++) {
      this.acc |= ((value >>> i) & 1) << this.n;
      if (++this.n === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  /** a prefix code is read MSB-first within the LSB-first stream */
  code(code: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) this.bits((code >>> i) & 1, 1);
  }
  finish(): Buffer {
    if (this.n > 0) this.bytes.push(this.acc);
    return Buffer.from(this.bytes);
  }
}

/** Huffman code lengths limited to `limit` bits (counts are flattened until the tree fits). */
function codeLengths(freq: number[], limit: number): number[] {
  const used = freq.map((f, s) => [f, s] as [number, number]).filter(([f]) => f > 0);
  const lengths = new Array<number>(freq.length).fill(0);
  if (used.length === 0) return lengths;
  if (used.length === 1) {
    lengths[used[0][1]] = 1;
    return lengths;
  }
  for (let flatten = 0; ; flatten++) {
    type Node = { w: number; syms: number[] };
    const floor = flatten === 0 ? 0 : Math.max(...used.map(([f]) => f)) >> Math.max(0, 16 - flatten);
    let nodes: Node[] = used.map(([f, s]) => ({ w: Math.max(f, floor, 1), syms: [s] }));
    const depth = new Map<number, number>();
    while (nodes.length > 1) {
      nodes.sort((a, b) => a.w - b.w);
      const [a, b] = [nodes[0], nodes[1]];
      for (const s of [...a.syms, ...b.syms]) depth.set(s, (depth.get(s) ?? 0) + 1);
      nodes = [{ w: a.w + b.w, syms: [...a.syms, ...b.syms] }, ...nodes.slice(2)];
    }
    if (Math.max(...depth.values()) <= limit) {
      for (const [s, d] of depth) lengths[s] = d;
      return lengths;
    }
  }
}

/** Canonical codes (same rule as DEFLATE): shorter first, then by symbol. */
function canonical(lengths: number[]): number[] {
  const codes = new Array<number>(lengths.length).fill(0);
  const maxLen = Math.max(0, ...lengths);
  const count = new Array<number>(maxLen + 1).fill(0);
  for (const l of lengths) if (l) count[l]++;
  const next = new Array<number>(maxLen + 2).fill(0);
  let code = 0;
  for (let len = 1; len <= maxLen; len++) {
    next[len] = code;
    code = (code + count[len]) << 1;
  }
  for (let s = 0; s < lengths.length; s++) if (lengths[s]) codes[s] = next[lengths[s]]++;
  return codes;
}

const CODE_LENGTH_ORDER = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

interface Code {
  lengths: number[];
  codes: number[];
  /** a code with one symbol costs zero bits per use */
  single: boolean;
}

/** Write one prefix code (simple form when ≤2 symbols below 256, else normal form). */
function writeCode(w: LsbWriter, freq: number[]): Code {
  const used = freq.map((f, s) => (f > 0 ? s : -1)).filter((s) => s >= 0);
  if (used.length === 0) used.push(0);
  if (used.length <= 2 && used.every((s) => s < 256)) {
    w.bits(1, 1); // simple code
    w.bits(used.length - 1, 1);
    const first = used[0];
    if (first < 2) {
      w.bits(0, 1);
      w.bits(first, 1);
    } else {
      w.bits(1, 1);
      w.bits(first, 8);
    }
    if (used.length === 2) w.bits(used[1], 8);
    const lengths = new Array<number>(freq.length).fill(0);
    for (const s of used) lengths[s] = used.length === 1 ? 0 : 1;
    return { lengths, codes: canonical(lengths), single: used.length === 1 };
  }
  const lengths = codeLengths(freq, 15);
  w.bits(0, 1); // normal code
  const clFreq = new Array<number>(19).fill(0);
  for (const l of lengths) clFreq[l]++;
  const clLengths = codeLengths(clFreq, 7);
  const clUsed = clLengths.filter((l) => l > 0).length;
  const clCodes = canonical(clLengths);
  let num = 19;
  while (num > 4 && clLengths[CODE_LENGTH_ORDER[num - 1]] === 0) num--;
  w.bits(num - 4, 4);
  for (let i = 0; i < num; i++) w.bits(clLengths[CODE_LENGTH_ORDER[i]], 3);
  w.bits(0, 1); // max_symbol = alphabet size
  for (const l of lengths) if (clUsed > 1) w.code(clCodes[l], clLengths[l]);
  return { lengths, codes: canonical(lengths), single: false };
}

/** Encode 8-bit RGBA (or RGB when `channels` is 3) as a lossless WebP file. */
export function encodeWebpLossless(width: number, height: number, pixels: Uint8Array, channels: 3 | 4): Buffer {
  const n = width * height;
  const argb = (p: number): [number, number, number, number] => {
    const o = p * channels;
    return [pixels[o], pixels[o + 1], pixels[o + 2], channels === 4 ? pixels[o + 3] : 255];
  };
  const fG = new Array<number>(280).fill(0);
  const fR = new Array<number>(256).fill(0);
  const fB = new Array<number>(256).fill(0);
  const fA = new Array<number>(256).fill(0);
  let alphaUsed = false;
  for (let p = 0; p < n; p++) {
    const [r, g, b, a] = argb(p);
    fG[g]++;
    fR[r]++;
    fB[b]++;
    fA[a]++;
    if (a !== 255) alphaUsed = true;
  }
  const w = new LsbWriter();
  w.bits(0x2f, 8);
  w.bits(width - 1, 14);
  w.bits(height - 1, 14);
  w.bits(alphaUsed ? 1 : 0, 1);
  w.bits(0, 3); // version
  w.bits(0, 1); // no transform
  w.bits(0, 1); // no colour cache
  w.bits(0, 1); // no meta prefix codes
  const g = writeCode(w, fG);
  const r = writeCode(w, fR);
  const b = writeCode(w, fB);
  const a = writeCode(w, fA);
  writeCode(w, new Array<number>(40).fill(0)); // distance code (unused)
  const put = (c: Code, s: number): void => {
    if (!c.single) w.code(c.codes[s], c.lengths[s]);
  };
  for (let p = 0; p < n; p++) {
    const [R, G, B, A] = argb(p);
    put(g, G);
    put(r, R);
    put(b, B);
    put(a, A);
  }
  const vp8l = w.finish();
  const pad = vp8l.length % 2;
  const out = Buffer.alloc(12 + 8 + vp8l.length + pad);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(out.length - 8, 4);
  out.write('WEBP', 8, 'latin1');
  out.write('VP8L', 12, 'latin1');
  out.writeUInt32LE(vp8l.length, 16);
  vp8l.copy(out, 20);
  return out;
}
