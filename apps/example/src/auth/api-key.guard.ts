import { type CanActivate, createParamDecorator, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { API_KEYS, ApiKeys } from './api-keys.js';

interface AuthenticatedRequest extends Request {
  ownerId?: string;
}

/** `Authorization: Bearer <key>` → the owner id the key belongs to; 401 otherwise. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(API_KEYS) private readonly keys: ApiKeys) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const owner = match ? this.keys.ownerOf(match[1]!) : undefined;
    if (!owner) throw new UnauthorizedException('A valid API key is required: Authorization: Bearer <key>');
    request.ownerId = owner;
    return true;
  }
}

/** The owner id of the authenticated caller. */
export const CurrentOwner = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().ownerId!;
});
