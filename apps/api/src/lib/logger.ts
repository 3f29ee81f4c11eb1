/** The logging surface the app needs; pino satisfies it on Node, a console JSON logger on Workers. */
export type Logger = {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  child?(bindings: Record<string, unknown>): Logger;
};

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** One JSON line per event through console, for runtimes without pino (Workers). */
export function createConsoleLogger(minLevel: Level = 'info', bindings: Record<string, unknown> = {}): Logger {
  const min = LEVELS.indexOf(minLevel);
  const emit = (level: Level) => (obj: Record<string, unknown>, msg?: string) => {
    if (LEVELS.indexOf(level) < min) return;
    console.log(JSON.stringify({ level, time: new Date().toISOString(), ...bindings, ...obj, msg }));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (more) => createConsoleLogger(minLevel, { ...bindings, ...more }),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
