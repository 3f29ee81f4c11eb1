import { resolve, sep } from 'node:path';
import { Gauge } from '@synthfleet/contracts/agent-api';
import { EXEC_BASE_ENV, forbiddenExecEnv } from '@synthfleet/contracts/exec-env';
import { z } from 'zod';
import { findExecutable, runProcess } from './process.ts';
import type { Probe, ProbeOutcome } from './types.ts';

export const ExecConfig = z
  .object({
    /** The program: a path, or a name looked up on PATH; or a list of program and arguments. */
    command: z.union([z.string().min(1), z.array(z.string()).min(1)]),
    args: z.array(z.string()).default([]),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names must be identifiers'), z.string())
      .default({}),
  })
  .loose();
export type ExecConfig = z.infer<typeof ExecConfig>;

/** What the program prints on stdout. */
export const ExecResult = z.object({
  marks: z.number().int().nonnegative(),
  maxMarks: z.number().int().nonnegative(),
  status: z.enum(['error', 'skipped']).optional(),
  log: z.union([z.string(), z.array(z.string())]).optional(),
  error: z.string().optional(),
  details: z.record(z.string(), z.string()).optional(),
  gauges: z.array(Gauge).max(200).optional(),
});

export type ExecOptions = {
  /**
   * Programs the agent may run: absolute paths of files or of directories holding them. Anyone who
   * may create a SyntheticTest could otherwise run anything on every node.
   */
  allow: readonly string[];
  /**
   * Environment variable names a spec's `config.env` may set (the agent's EXEC_ENV_ALLOW); none by
   * default. Loader, shell and interpreter variables are refused even when listed here.
   */
  envAllow?: readonly string[];
};

/** Why a spec's env cannot be handed to the program, or undefined when every name is allowed. */
function envRefusal(env: Record<string, string>, allow: ReadonlySet<string>): string | undefined {
  for (const name of Object.keys(env)) {
    const forbidden = forbiddenExecEnv(name);
    if (forbidden) return `exec: config.env.${forbidden}`;
    if (!allow.has(name)) {
      return `exec: config.env.${name} is not a variable this agent lets a spec set (EXEC_ENV_ALLOW${allow.size ? `: ${[...allow].join(', ')}` : ' is empty'})`;
    }
  }
  return undefined;
}

function allowed(file: string, allow: readonly string[]): boolean {
  const abs = resolve(file);
  return allow.some((a) => {
    const root = resolve(a);
    return abs === root || abs.startsWith(root.endsWith(sep) ? root : root + sep);
  });
}

export function createExecProbe(options: ExecOptions): Probe<ExecConfig> {
  const envAllow = new Set(options.envAllow ?? []);
  return {
    plugin: 'exec',
    config: ExecConfig,
    async run(config, ctx): Promise<ProbeOutcome> {
      const [cmd, ...preArgs] = Array.isArray(config.command) ? config.command : [config.command];
      const file = findExecutable(cmd as string);
      if (file === undefined) {
        return {
          marks: 0,
          maxMarks: 1,
          status: 'error',
          log: [],
          error: `exec: "${cmd}" is not an executable file here`,
        };
      }
      if (!allowed(file, options.allow)) {
        return {
          marks: 0,
          maxMarks: 1,
          status: 'error',
          log: [],
          error: `exec: "${file}" is outside the agent's allowed programs (EXEC_ALLOW)`,
        };
      }
      const refused = envRefusal(config.env, envAllow);
      if (refused) return { marks: 0, maxMarks: 1, status: 'error', log: [], error: refused };
      const input = JSON.stringify({ config, self: ctx.self, peers: ctx.peers, timeoutMs: ctx.timeoutMs });
      // A fixed, minimal environment: nothing of the agent's own (its token, its PATH) reaches the program.
      const env = { ...EXEC_BASE_ENV, ...config.env };
      const out = await runProcess(file, [...preArgs, ...config.args], { input, env, signal: ctx.signal });
      const stderrTail = out.stderr.trim().split('\n').slice(-5).join('\n');
      let parsed: z.infer<typeof ExecResult> | undefined;
      let why = '';
      try {
        const result = ExecResult.safeParse(JSON.parse(out.stdout.trim().split('\n').pop() ?? ''));
        if (result.success) parsed = result.data;
        else why = result.error.issues.map((i) => `${i.path.join('.') || 'result'}: ${i.message}`).join('; ');
      } catch {
        why = 'stdout is not JSON';
      }
      if (!parsed) {
        const exit = out.signal ? `signal ${out.signal}` : `exit ${out.code}`;
        return {
          marks: 0,
          maxMarks: 1,
          status: 'error',
          log: stderrTail ? [stderrTail] : [],
          error: `exec: ${file} gave no valid result (${exit}): ${why}`,
        };
      }
      if (parsed.marks > parsed.maxMarks) {
        return { marks: 0, maxMarks: 1, status: 'error', log: [], error: 'exec: result has more marks than maxMarks' };
      }
      const log = parsed.log === undefined ? [] : Array.isArray(parsed.log) ? parsed.log : [parsed.log];
      // A non-zero exit with every mark claimed contradicts itself: trust the exit code.
      const contradicts = out.code !== 0 && parsed.marks === parsed.maxMarks;
      return {
        marks: parsed.marks,
        maxMarks: parsed.maxMarks,
        status: contradicts ? 'error' : parsed.status,
        log: stderrTail ? [...log, stderrTail] : log,
        error: contradicts ? `exec: ${file} exited ${out.code} yet reported every mark` : parsed.error,
        details: parsed.details,
        gauges: parsed.gauges,
      };
    },
  };
}
