import type { IncomingMessage } from 'node:http';
import { parseCookie } from 'cookie';
import type { Request, Response } from 'express';

/** Where the example mounts the dashboard, and where its session cookie is sent. */
export const DASHBOARD_PATH = 'webhooks/dashboard';
/** Sign-out sits below the dashboard's path: the browser sends the session and the form token's cookie only there. */
export const LOGOUT_PATH = `${DASHBOARD_PATH}/logout`;
const SESSION_COOKIE = 'webhooks_dashboard_session';
const SESSION_SECONDS = 8 * 60 * 60;

/**
 * The dashboard's sign-in, kept minimal for the example: the API key itself in an HttpOnly, SameSite=Strict
 * cookie sent only to the dashboard's path, for eight hours. Browsers cannot send a bearer header when they
 * navigate, so the cookie stands in for it; an application with its own sign-in uses its session instead.
 */
export function sessionKey(request: Request): string | undefined {
  return parseCookie(request.headers.cookie ?? '')[SESSION_COOKIE];
}

/** The sign-in and sign-out forms, which Express's URL-encoded parser reads (the JSON API refuses forms with 415). */
export function isSignInForm(request: IncomingMessage): boolean {
  const path = (request.url ?? '').split('?', 1)[0];
  const type = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return request.method === 'POST' && type === 'application/x-www-form-urlencoded' && (path === '/login' || path === `/${LOGOUT_PATH}`);
}

export function startSession(request: Request, response: Response, apiKey: string): void {
  response.cookie(SESSION_COOKIE, apiKey, { path: `/${DASHBOARD_PATH}`, httpOnly: true, sameSite: 'strict', secure: request.secure, maxAge: SESSION_SECONDS * 1000 });
}

export function endSession(request: Request, response: Response): void {
  response.clearCookie(SESSION_COOKIE, { path: `/${DASHBOARD_PATH}`, httpOnly: true, sameSite: 'strict', secure: request.secure });
}
