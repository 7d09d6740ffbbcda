import { Controller, Get, HttpStatus, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DashboardCsrf } from 'nest-webhooks/dashboard';
import { API_KEYS, ApiKeys } from '../auth/api-keys.js';
import { DASHBOARD_PATH, endSession, LOGOUT_PATH, sessionKey, startSession } from './dashboard-session.js';
import { loginPage } from './login-page.js';

const HOME = `/${DASHBOARD_PATH}`;
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Only a page of the dashboard may be the target after signing in (no open redirect). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && (next === HOME || next.startsWith(`${HOME}/`) || next.startsWith(`${HOME}?`)) ? next : HOME;
}

/** A field of the form Express parsed (`isSignInForm`); anything else reads as absent. */
function field(request: Request, name: string): string | undefined {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

function sendPage(response: Response, status: number, html: string): void {
  response.status(status).set({ 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' }).type('html').send(html);
}

/** Whether the browser marked the form as sent from another site (`Sec-Fetch-Site`; older browsers send nothing). */
function fromAnotherSite(request: Request): boolean {
  const site = request.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

const refused = (response: Response, text: string) => sendPage(response, HttpStatus.FORBIDDEN, loginPage({ next: HOME, error: text }));

/** The dashboard's sign-in and sign-out: an API key typed into a form becomes the session cookie. */
@ApiExcludeController()
@Controller()
export class DashboardLoginController {
  constructor(
    @Inject(API_KEYS) private readonly keys: ApiKeys,
    private readonly csrf: DashboardCsrf,
  ) {}

  @Get('login')
  form(@Query('next') next: unknown, @Res() response: Response): void {
    sendPage(response, HttpStatus.OK, loginPage({ next: safeNext(next) }));
  }

  /** Another site may not sign a browser in (to an account of its choosing): such a form is refused. */
  @Post('login')
  login(@Req() request: Request, @Res() response: Response): void {
    if (fromAnotherSite(request)) return refused(response, 'This form was sent from another site. Sign in here.');
    const key = field(request, 'apiKey')?.trim() ?? '';
    const next = safeNext(field(request, 'next'));
    if (!key || !this.keys.ownerOf(key)) {
      sendPage(response, HttpStatus.UNAUTHORIZED, loginPage({ next, error: 'That API key is not valid.' }));
      return;
    }
    startSession(request, response, key);
    response.redirect(HttpStatus.SEE_OTHER, next);
  }

  /**
   * The dashboard's "Sign out" button: the form carries the dashboard's token, checked with `DashboardCsrf` for
   * the principal the dashboard shows (the session's owner), so another site cannot sign the user out. It lives
   * below the dashboard's path, where the browser sends the session and the token's cookie.
   */
  @Post(LOGOUT_PATH)
  logout(@Req() request: Request, @Res() response: Response): void {
    const key = sessionKey(request);
    const owner = key ? this.keys.ownerOf(key) : undefined;
    // Without a valid session there is nothing to protect: the cookie is cleared all the same.
    if (owner && !this.csrf.verify(request, { id: owner }, field(request, this.csrf.field))) {
      return refused(response, 'The sign-out form’s security token is missing or out of date, or it came from another site. Open the dashboard and sign out there.');
    }
    endSession(request, response);
    response.redirect(HttpStatus.SEE_OTHER, '/login');
  }
}
