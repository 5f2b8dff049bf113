/**
 * A small baseline JPEG encoder (JFIF, YCbCr 4:4:4, per-image optimal Huffman tables). The real
 * server sends sampler previews as JPEG (quality 95) and answers /view?preview=jpeg;N with JPEG,
 * so the simulator produces genuine JPEG bytes a browser or decoder can display.
 */

const ZIGZAG: number[] = (() => {
  // index in zigzag order → natural (row-major) index
  const out: number[] = [];
  for (let s = 0; s < 15; s++) {
    const cells: number[] = [];
    for (let y = 0; y < 8; y++) {
      const x = s - y;
      if (x >= 0 && x < 8) cells.push(y * 8 + x);
    }
    // even diagonals run bottom-left → top-right
    if (s % 2 === 0) cells.reverse();
    out.push(...cells);
  }
  return out;
})();

const STD_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22,
  37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const STD_CHROMA = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

function scaledTable(base: number[], quality: number): number[] {
  const q = Math.max(1, Math.min(100, quality));
  const scale = q < 50 ? 5000 / q : 200 - q * 2;
  return base.map((v) => Math.max(1, Math.min(255, Math.floor((v * scale + 50) / 100))));
}

const COS = (() => {
  const t = new Float64Array(64);
  for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) t[x * 8 + u] = Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  return t;
})();

function fdct(block: Float64Array): Float64Array {
  const tmp = new Float64Array(64);
  const out = new Float64Array(64);
  for (let y = 0; y < 8; y++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += block[y * 8 + x] * COS[x * 8 + u];
      tmp[y * 8 + u] = s * (u === 0 ? Math.SQRT1_2 : 1) * 0.5;
    }
  }
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += tmp[y * 8 + u] * COS[y * 8 + v];
      out[v * 8 + u] = s * (v === 0 ? Math.SQRT1_2 : 1) * 0.5;
    }
  }
  return out;
}

function category(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a > 0) {
    n++;
    a >>= 1;
  }
  return n;
}

/** libjpeg's jpeg_gen_optimal_table: code lengths ≤ 16, and no symbol gets the all-ones code. */
function optimalTable(freqIn: number[]): { bits: number[]; vals: number[] } {
  const freq = freqIn.slice(0, 256);
  while (freq.length < 257) freq.push(0);
  freq[256] = 1;
  const codesize = new Array<number>(257).fill(0);
  const others = new Array<number>(257).fill(-1);
  for (;;) {
    let c1 = -1;
    let v = Infinity;
    for (let i = 0; i <= 256; i++)
      if (freq[i] > 0 && freq[i] <= v) {
        v = freq[i]!;
        c1 = i;
      }
    let c2 = -1;
    v = Infinity;
    for (let i = 0; i <= 256; i++)
      if (freq[i] > 0 && freq[i] <= v && i !== c1) {
        v = freq[i]!;
        c2 = i;
      }
    if (c2 < 0) break;
    freq[c1] = freq[c1] + freq[c2];
    freq[c2] = 0;
    codesize[c1]++;
    while (others[c1] >= 0) {
      c1 = others[c1]!;
      codesize[c1]++;
    }
    others[c1] = c2;
    codesize[c2]++;
    while (others[c2] >= 0) {
      c2 = others[c2]!;
      codesize[c2]++;
    }
  }
  const bits = new Array<number>(33).fill(0);
  for (let i = 0; i <= 256; i++) if (codesize[i]) bits[codesize[i]]++;
  for (let i = 32; i > 16; i--) {
    while (bits[i] > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i] = bits[i] - 2;
      bits[i - 1]++;
      bits[j + 1] = bits[j + 1] + 2;
      bits[j]--;
    }
  }
  let i = 16;
  while (bits[i] === 0) i--;
  bits[i]--;
  const vals: number[] = [];
  for (let len = 1; len <= 32; len++) for (let s = 0; s < 256; s++) if (codesize[s] === len) vals.push(s);
  return { bits: bits.slice(1, 17), vals };
}

function codesFrom(table: { bits: number[]; vals: number[] }): Map<number, [number, number]> {
  const map = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let n = 0; n < table.bits[len - 1]; n++) map.set(table.vals[k++], [code++, len]);
    code <<= 1;
  }
  return map;
}

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, len: number): void {
    for (let b = len - 1; b >= 0; b--) {
      this.acc = (this.acc << 1) | ((value >> b) & 1);
      if (++this.n === 8) {
        this.bytes.push(this.acc);
        if (this.acc === 0xff) this.bytes.push(0);
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  finish(): number[] {
    if (this.n > 0) this.write((1 << (8 - this.n)) - 1, 8 - this.n);
    return this.bytes;
  }
}

type Sym = { table: 'dc' | 'ac'; sym: number; extra: number; extraLen: number };

/** Encode 8-bit RGB pixels as a baseline JFIF JPEG. */
export function encodeJpeg(width: number, height: number, rgb: Uint8Array, quality = 95): Buffer {
  const qY = scaledTable(STD_LUMA, quality);
  const qC = scaledTable(STD_CHROMA, quality);
  const syms: Sym[] = [];
  const prevDc = [0, 0, 0];
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      for (let comp = 0; comp < 3; comp++) {
        const block = new Float64Array(64);
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            const px = Math.min(width - 1, bx * 8 + x);
            const py = Math.min(height - 1, by * 8 + y);
            const o = (py * width + px) * 3;
            const r = rgb[o];
            const g = rgb[o + 1];
            const b = rgb[o + 2];
            const v =
              comp === 0
                ? 0.299 * r + 0.587 * g + 0.114 * b
                : comp === 1
                  ? -0.168736 * r - 0.331264 * g + 0.5 * b + 128
                  : 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
            block[y * 8 + x] = v - 128;
          }
        }
        const coef = fdct(block);
        const q = comp === 0 ? qY : qC;
        const zz = ZIGZAG.map((nat) => Math.round(coef[nat] / q[nat]));
        const dc = Math.max(-2047, Math.min(2047, zz[0]));
        const diff = dc - prevDc[comp];
        prevDc[comp] = dc;
        const dcCat = category(diff);
        syms.push({ table: 'dc', sym: dcCat, extra: diff < 0 ? diff + (1 << dcCat) - 1 : diff, extraLen: dcCat });
        let run = 0;
        for (let k = 1; k < 64; k++) {
          const v = Math.max(-1023, Math.min(1023, zz[k]));
          if (v === 0) {
            run++;
            continue;
          }
          while (run > 15) {
            syms.push({ table: 'ac', sym: 0xf0, extra: 0, extraLen: 0 });
            run -= 16;
          }
          const cat = category(v);
          syms.push({ table: 'ac', sym: (run << 4) | cat, extra: v < 0 ? v + (1 << cat) - 1 : v, extraLen: cat });
          run = 0;
        }
        if (run > 0) syms.push({ table: 'ac', sym: 0x00, extra: 0, extraLen: 0 });
      }
    }
  }
  const dcFreq = new Array<number>(256).fill(0);
  const acFreq = new Array<number>(256).fill(0);
  for (const s of syms) (s.table === 'dc' ? dcFreq : acFreq)[s.sym]++;
  if (!acFreq.some((f) => f > 0)) acFreq[0] = 1;
  const dcTable = optimalTable(dcFreq);
  const acTable = optimalTable(acFreq);
  const dcCodes = codesFrom(dcTable);
  const acCodes = codesFrom(acTable);
  const bits = new BitWriter();
  for (const s of syms) {
    const [code, len] = (s.table === 'dc' ? dcCodes : acCodes).get(s.sym)!;
    bits.write(code, len);
    if (s.extraLen) bits.write(s.extra, s.extraLen);
  }
  const out: number[] = [];
  const u16 = (v: number): void => {
    out.push((v >> 8) & 0xff, v & 0xff);
  };
  const segment = (marker: number, body: number[]): void => {
    out.push(0xff, marker);
    u16(body.length + 2);
    out.push(...body);
  };
  out.push(0xff, 0xd8); // SOI
  segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]); // JFIF 1.1, 1:1
  segment(0xdb, [0x00, ...ZIGZAG.map((n) => qY[n]), 0x01, ...ZIGZAG.map((n) => qC[n])]);
  segment(0xc0, [8, (height >> 8) & 0xff, height & 0xff, (width >> 8) & 0xff, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  segment(0xc4, [0x00, ...dcTable.bits, ...dcTable.vals, 0x10, ...acTable.bits, ...acTable.vals]);
  segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);
  const data = bits.finish();
  const result = Buffer.alloc(out.length + data.length + 2);
  Buffer.from(out).copy(result, 0);
  Buffer.from(data).copy(result, out.length);
  result[result.length - 2] = 0xff;
  result[result.length - 1] = 0xd9; // EOI
  return result;
}
