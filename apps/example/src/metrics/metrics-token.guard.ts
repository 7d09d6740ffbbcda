import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** Injection token of the bearer token `GET /metrics` requires (`WEBHOOKS_METRICS_TOKEN`), or `null` for none. */
export const METRICS_TOKEN = Symbol('METRICS_TOKEN');

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `Authorization: Bearer <WEBHOOKS_METRICS_TOKEN>` when a token is configured (Prometheus' `authorization` scrape
 * setting sends it); open when none is, as in development. Compared in constant time.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(METRICS_TOKEN) token: string | null) {
    this.expected = token === null ? null : digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match || !timingSafeEqual(digest(match[1]!), this.expected)) {
      throw new UnauthorizedException('The metrics token is required: Authorization: Bearer <WEBHOOKS_METRICS_TOKEN>');
    }
    return true;
  }
}
