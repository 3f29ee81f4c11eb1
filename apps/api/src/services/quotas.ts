import { RateLimitedError } from '../errors.ts';
import { quota } from '../lib/rate-limit.ts';
import type { Principal, ServiceContext } from './context.ts';

/*
 * Every writer is rate-limited, so one token (or one agent, or one address trying tokens) cannot
 * fill the database or starve the fleet. Over a quota the API answers 429 with Retry-After; the
 * agent keeps refused results in its spool and delivers them later.
 */

function refuse(what: string, setting: string, waitMs: number): never {
  throw new RateLimitedError(`${what} (${setting}); try again in ${Math.ceil(waitMs / 1000)} s`, waitMs);
}

/** One write request (POST, PUT, PATCH, DELETE) by this token. */
export function chargeWrite(ctx: ServiceContext, principal: Principal): void {
  const perSecond = ctx.config.tokenWritesPerSecond;
  const wait = ctx.limiter.take(`writes:${principal.tokenId}`, 1, quota(perSecond, 'second', perSecond * 2));
  if (wait > 0)
    refuse(`this token is over its ${perSecond} write requests per second`, 'RATE_TOKEN_WRITES_PER_SECOND', wait);
}

/** A batch of `count` runs from `agentId`, sent with this token: both quotas pay, or neither. */
export function chargeRuns(ctx: ServiceContext, principal: Principal, agentId: string, count: number): void {
  const { agentRunsPerMinute: perAgent, tokenRunsPerMinute: perToken } = ctx.config;
  const agent = { key: `runs:agent:${agentId}`, quota: quota(perAgent, 'minute') };
  const token = { key: `runs:token:${principal.tokenId}`, quota: quota(perToken, 'minute') };
  const agentWait = ctx.limiter.waitFor(agent.key, count, agent.quota);
  if (agentWait > 0) {
    refuse(`agent "${agentId}" is over its ${perAgent} runs per minute`, 'RATE_AGENT_RUNS_PER_MINUTE', agentWait);
  }
  const tokenWait = ctx.limiter.waitFor(token.key, count, token.quota);
  if (tokenWait > 0)
    refuse(`this token is over its ${perToken} runs per minute`, 'RATE_TOKEN_RUNS_PER_MINUTE', tokenWait);
  ctx.limiter.pay(agent.key, count, agent.quota);
  ctx.limiter.pay(token.key, count, token.quota);
}

/** One sign-in attempt on the dashboard from `address` (unknown addresses share one bucket). */
export function chargeSignIn(ctx: ServiceContext, address: string | undefined): number {
  return ctx.limiter.take(`signin:${address ?? 'unknown'}`, 1, quota(ctx.config.signInsPerMinute, 'minute'));
}
