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
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function startSession(request: Request, response: Response, apiKey: string): void {
  response.cookie(SESSION_COOKIE, apiKey, { path: `/${DASHBOARD_PATH}`, httpOnly: true, sameSite: 'strict', secure: request.secure, maxAge: SESSION_SECONDS * 1000 });
}

export function endSession(request: Request, response: Response): void {
  response.clearCookie(SESSION_COOKIE, { path: `/${DASHBOARD_PATH}`, httpOnly: true, sameSite: 'strict', secure: request.secure });
}
