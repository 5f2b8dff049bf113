/**
 * The simulator's pixel maths: what the fake image nodes compute. Real bytes matter because the
 * client downloads and forwards outputs; a test can check a saved EmptyImage really is its colour.
 */

/** An 8-bit RGB image, row-major (ComfyUI's IMAGE tensor is RGB too). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** ComfyUI MASK: one float per pixel, 1 = masked (LoadImage: 1 - alpha). */
export interface Mask {
  width: number;
  height: number;
  data: Float32Array;
}

export function solidImage(width: number, height: number, r: number, g: number, b: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = r;
    data[p * 3 + 1] = g;
    data[p * 3 + 2] = b;
  }
  return { width, height, data };
}

/** EmptyImage's `color` input: 0xRRGGBB. */
export function colorFromInt(color: number): [number, number, number] {
  return [(color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff];
}

export function invertImage(img: RgbImage): RgbImage {
  const data = new Uint8Array(img.data.length);
  for (let k = 0; k < data.length; k++) data[k] = 255 - img.data[k];
  return { width: img.width, height: img.height, data };
}

/** PyTorch 'reflect' padding index (edge pixel not repeated). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - k;
  return k;
}

/**
 * ComfyUI's ImageBlur: a (2r+1)² Gaussian sampled on linspace(-1, 1) (so sigma is relative to the
 * radius, not in pixels), reflect padding. The kernel is separable, so two 1-D passes are exact.
 */
export function blurImage(img: RgbImage, radius: number, sigma: number): RgbImage {
  if (radius <= 0) return img;
  const size = radius * 2 + 1;
  const k: number[] = [];
  for (let i = 0; i < size; i++) {
    const x = -1 + (2 * i) / (size - 1);
    k.push(Math.exp(-(x * x) / (2 * sigma * sigma)));
  }
  const sum = k.reduce((a, b) => a + b, 0);
  const kern = k.map((v) => v / sum);
  const { width: w, height: h } = img;
  const tmp = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = 0; i < size; i++) acc += kern[i] * img.data[(y * w + reflect(x + i - radius, w)) * 3 + c];
        tmp[(y * w + x) * 3 + c] = acc;
      }
    }
  }
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = 0; i < size; i++) acc += kern[i] * tmp[(reflect(y + i - radius, h) * w + x) * 3 + c];
        data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(acc)));
      }
    }
  }
  return { width: w, height: h, data };
}

/** ImageScale: 0 for one side keeps the aspect ratio; 'center' crop trims to the target aspect first. */
export function scaleImage(img: RgbImage, width: number, height: number, method: string, crop: string): RgbImage {
  if (width === 0 && height === 0) return img;
  if (width === 0) width = Math.max(1, Math.round((img.width * height) / img.height));
  if (height === 0) height = Math.max(1, Math.round((img.height * width) / img.width));
  let sx = 0;
  let sy = 0;
  let sw = img.width;
  let sh = img.height;
  if (crop === 'center') {
    const oldAspect = img.width / img.height;
    const newAspect = width / height;
    if (oldAspect > newAspect) {
      sw = Math.round(img.width * (newAspect / oldAspect));
      sx = Math.floor((img.width - sw) / 2);
    } else if (oldAspect < newAspect) {
      sh = Math.round(img.height * (oldAspect / newAspect));
      sy = Math.floor((img.height - sh) / 2);
    }
  }
  const data = new Uint8Array(width * height * 3);
  const nearest = method === 'nearest-exact';
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const fx = sx + ((x + 0.5) * sw) / width - 0.5;
      const fy = sy + ((y + 0.5) * sh) / height - 0.5;
      for (let c = 0; c < 3; c++) {
        let v: number;
        if (nearest) {
          const px = Math.min(img.width - 1, Math.max(0, Math.floor(sx + ((x + 0.5) * sw) / width)));
          const py = Math.min(img.height - 1, Math.max(0, Math.floor(sy + ((y + 0.5) * sh) / height)));
          v = img.data[(py * img.width + px) * 3 + c]!;
        } else {
          const x0 = Math.max(0, Math.min(img.width - 1, Math.floor(fx)));
          const y0 = Math.max(0, Math.min(img.height - 1, Math.floor(fy)));
          const x1 = Math.min(img.width - 1, x0 + 1);
          const y1 = Math.min(img.height - 1, y0 + 1);
          const tx = Math.max(0, Math.min(1, fx - x0));
          const ty = Math.max(0, Math.min(1, fy - y0));
          const at = (px: number, py: number): number => img.data[(py * img.width + px) * 3 + c];
          v = (at(x0, y0) * (1 - tx) + at(x1, y0) * tx) * (1 - ty) + (at(x0, y1) * (1 - tx) + at(x1, y1) * tx) * ty;
        }
        data[(y * width + x) * 3 + c] = Math.round(v);
      }
    }
  }
  return { width, height, data };
}

/** Per-pixel mix of two same-size images: t=0 gives a, t=1 gives b. */
export function mixImages(a: RgbImage, b: RgbImage, t: number): RgbImage {
  const data = new Uint8Array(a.data.length);
  for (let k = 0; k < data.length; k++) data[k] = Math.round(a.data[k] * (1 - t) + b.data[k] * t);
  return { width: a.width, height: a.height, data };
}

/** A small deterministic PRNG (mulberry32), so the same seed always gives the same picture. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The fake "generated picture": a diagonal gradient between two colours chosen by `seed`, with soft
 * bands, standing in for a diffusion result. Same seed and size → same bytes.
 */
export function seededGradient(width: number, height: number, seed: number): RgbImage {
  const rnd = prng(seed);
  const c0 = [rnd() * 255, rnd() * 255, rnd() * 255];
  const c1 = [rnd() * 255, rnd() * 255, rnd() * 255];
  const bands = 2 + Math.floor(rnd() * 5);
  const angle = rnd() * Math.PI * 2;
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (x / Math.max(1, width - 1) - 0.5) * dx + (y / Math.max(1, height - 1) - 0.5) * dy + 0.5;
      const t = Math.min(1, Math.max(0, u));
      const wave = 0.12 * Math.sin(t * Math.PI * 2 * bands);
      for (let c = 0; c < 3; c++) {
        const v = c0[c] * (1 - t) + c1[c] * t + 255 * wave;
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width, height, data };
}

/** Box-downscale to fit inside max×max (used for latent previews, like PIL's thumbnail()). */
export function fitWithin(img: RgbImage, max: number): RgbImage {
  if (img.width <= max && img.height <= max) return img;
  const f = max / Math.max(img.width, img.height);
  return scaleImage(img, Math.max(1, Math.round(img.width * f)), Math.max(1, Math.round(img.height * f)), 'bilinear', 'disabled');
}
