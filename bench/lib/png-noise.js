'use strict';
/**
 * Real PNG files of random pixels (incompressible, so a ~20 MB file is really ~20 MB on the wire;
 * the simulator's own outputs are solid colours that deflate to almost nothing).
 */
const { randomFillSync } = require('node:crypto');
const { crc32, deflateSync } = require('node:zlib');

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(Buffer.from(type, 'latin1'))) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** An RGB PNG of about `bytes` bytes of random pixels; `seed` changes the first row so files differ. */
function noisePng(bytes, seed = 0) {
  const width = Math.max(1, Math.floor(Math.sqrt(bytes / 3)));
  const height = Math.max(1, Math.round(bytes / 3 / width));
  const stride = width * 3 + 1;
  const raw = Buffer.allocUnsafe(stride * height);
  randomFillSync(raw);
  for (let y = 0; y < height; y += 1) raw[y * stride] = 0; // filter type None on every row
  raw.writeUInt32BE(seed >>> 0, 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 0 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

module.exports = { noisePng };
