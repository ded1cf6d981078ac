import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { inflateSync } from "node:zlib";

/**
 * Take a screenshot of the HTML page `html` with headless Chromium (Debian's `chromium`,
 * installed by scripts/bootstrap) into the PNG `png`.
 * @throws when Chromium is missing or fails.
 */
export function screenshot(
  html: string,
  png: string,
  size: { width: number; height: number } = { width: 1200, height: 2400 },
): Promise<void> {
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    `--screenshot=${png}`,
    `--window-size=${size.width},${size.height}`,
    pathToFileURL(html).href,
  ];
  return new Promise((resolve, reject) => {
    execFile("chromium", args, { timeout: 60_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`chromium: ${err.message}: ${stderr.trim().slice(-500)}`));
      else resolve();
    });
  });
}

/** What {@link inspectPng} found in a PNG. */
export interface PngSummary {
  width: number;
  height: number;
  /** Distinct colours among the pixels. */
  colours: number;
  /** Share of pixels that differ from the most common colour (the page's background). */
  inked: number;
}

/**
 * Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) far enough to say
 * whether it shows anything: its size, its distinct colours and how much of it is not
 * background.
 * @throws when the file is not such a PNG.
 */
export async function inspectPng(file: string): Promise<PngSummary> {
  const buf = await fs.readFile(file);
  if (buf.subarray(0, 8).toString("hex") !== "89504e470d0a1a0a")
    throw new Error(`${file}: not a PNG`);
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colourType = data[9];
      if (depth !== 8 || (colourType !== 2 && colourType !== 6) || data[12] !== 0) {
        throw new Error(`${file}: unsupported PNG (depth ${depth}, colour type ${colourType})`);
      }
      channels = colourType === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const cur = Buffer.alloc(stride);
  const counts = new Map<number, number>();
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1);
    const filter = raw[base]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[base + 1 + i]!;
      const a = i >= channels ? cur[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      let v: number;
      switch (filter) {
        case 0:
          v = x;
          break;
        case 1:
          v = x + a;
          break;
        case 2:
          v = x + b;
          break;
        case 3:
          v = x + ((a + b) >> 1);
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new Error(`${file}: bad PNG filter ${filter}`);
      }
      cur[i] = v & 0xff;
    }
    for (let px = 0; px < width; px++) {
      const i = px * channels;
      const key = (cur[i]! << 16) | (cur[i + 1]! << 8) | cur[i + 2]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    cur.copy(prev);
  }
  const most = Math.max(...counts.values());
  return { width, height, colours: counts.size, inked: 1 - most / (width * height) };
}
