/** The heartbeat body: `0123456789ABCDEF` repeated, as bartr/heartbeat serves it. */
export const HEARTBEAT_PATTERN = Buffer.from('0123456789ABCDEF', 'latin1');

/** `n` bytes of the pattern. The pattern's period (16) divides every power-of-two chunk size. */
export function heartbeatBytes(n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  if (n === 0) return buf;
  HEARTBEAT_PATTERN.copy(buf, 0, 0, Math.min(16, n));
  for (let filled = Math.min(16, n); filled < n; filled *= 2) buf.copy(buf, filled, 0, Math.min(filled, n - filled));
  return buf;
}

/** Whether `body` is exactly the pattern from offset 0. */
export function isHeartbeatBody(body: Buffer): boolean {
  for (let i = 0; i < body.length; i += 16) {
    const end = Math.min(16, body.length - i);
    if (HEARTBEAT_PATTERN.compare(body, i, i + end, 0, end) !== 0) return false;
  }
  return true;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Parses a byte size: `1024`, `"64KiB"`, `"1MiB"`, `"10kb"`. */
export function parseByteSize(value: number | string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new Error(`size ${value} is not a whole number of bytes`);
    return value;
  }
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = UNITS[(m?.[2] ?? '?').toLowerCase()];
  if (!m || unit === undefined) throw new Error(`size "${value}" is not a byte size like 1024, "64KiB" or "1MiB"`);
  return Number(m[1]) * unit;
}
