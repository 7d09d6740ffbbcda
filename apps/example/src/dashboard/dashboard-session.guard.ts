import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import type { WebhookPrincipal } from 'nest-webhooks';
import { API_KEYS, ApiKeys } from '../auth/api-keys.js';
import { sessionKey } from './dashboard-session.js';

interface DashboardRequest extends Request {
  ownerId?: string;
}

/** The dashboard's guard: the session cookie's API key → the owner id it belongs to (like `ApiKeyGuard`); 401 otherwise. */
@Injectable()
export class DashboardSessionGuard implements CanActivate {
  constructor(@Inject(API_KEYS) private readonly keys: ApiKeys) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<DashboardRequest>();
    const key = sessionKey(request);
    const owner = key ? this.keys.ownerOf(key) : undefined;
    if (!owner) throw new UnauthorizedException('Sign in to see the webhook dashboard');
    request.ownerId = owner;
    return true;
  }
}

/** Who is looking: the owner the guard found. Each owner sees only their own subscriptions. */
export function dashboardPrincipal(request: DashboardRequest): WebhookPrincipal | null {
  return typeof request.ownerId === 'string' ? { id: request.ownerId } : null;
}
