import { hostname } from 'node:os';

type LogFn = {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
};

export type Logger = {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
};

/** pino's level numbers, so log pipelines built for pino's lines read ours unchanged. */
const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
type Level = keyof typeof LEVELS;

/** An Error anywhere at the top of a log object is written as pino's serializer writes it. */
function serializable(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const [k, v] of Object.entries(obj)) {
    if (!(v instanceof Error)) continue;
    if (out === obj) out = { ...obj };
    out[k] = { type: v.name, message: v.message, stack: v.stack };
  }
  return out;
}

function stringify(line: Record<string, unknown>): string {
  try {
    return JSON.stringify(line);
  } catch (err) {
    // A cycle or a BigInt: keep the line, say what could not be written.
    return JSON.stringify({ level: line.level, time: line.time, msg: line.msg, logError: (err as Error).message });
  }
}

/**
 * JSON lines on stdout in pino's shape (`level` as a number, `time` in epoch ms, `pid`,
 * `hostname`, the bindings, the fields, `msg`). Not pino itself: pino and its stream helpers cost
 * an idle agent ~3 MB of RSS (worker_threads and assert come with them) for four log calls a
 * minute. Writes are synchronous (stdout is, for files and pipes on Linux), so a line logged just
 * before an exit is not lost.
 */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const min = level === 'silent' ? Number.POSITIVE_INFINITY : (LEVELS[level as Level] ?? LEVELS.info);
  const base = { pid: process.pid, hostname: hostname(), app: 'agent' };
  const make = (bound: Record<string, unknown>): Logger => {
    const at =
      (name: Level): LogFn =>
      (objOrMsg: Record<string, unknown> | string, msg?: string) => {
        const n = LEVELS[name];
        if (n < min) return;
        const fields = typeof objOrMsg === 'string' ? {} : serializable(objOrMsg);
        const text = typeof objOrMsg === 'string' ? objOrMsg : msg;
        write(`${stringify({ level: n, time: Date.now(), ...base, ...bound, ...fields, msg: text })}\n`);
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (more) => make({ ...bound, ...more }),
    };
  };
  return make(bindings);
}
