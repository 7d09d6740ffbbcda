import { Controller, Get, HttpStatus, Inject, PayloadTooLargeException, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { API_KEYS, ApiKeys } from '../auth/api-keys.js';
import { DASHBOARD_PATH, endSession, startSession } from './dashboard-session.js';
import { loginPage } from './login-page.js';

const HOME = `/${DASHBOARD_PATH}`;
const MAX_FORM_BYTES = 4096;
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Only a page of the dashboard may be the target after signing in (no open redirect). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && (next === HOME || next.startsWith(`${HOME}/`) || next.startsWith(`${HOME}?`)) ? next : HOME;
}

async function readForm(request: Request): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new PayloadTooLargeException('The form is too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendPage(response: Response, status: number, html: string): void {
  response.status(status).set({ 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' }).type('html').send(html);
}

/** The dashboard's sign-in and sign-out: an API key typed into a form becomes the session cookie. */
@ApiExcludeController()
@Controller()
export class DashboardLoginController {
  constructor(@Inject(API_KEYS) private readonly keys: ApiKeys) {}

  @Get('login')
  form(@Query('next') next: unknown, @Res() response: Response): void {
    sendPage(response, HttpStatus.OK, loginPage({ next: safeNext(next) }));
  }

  @Post('login')
  async login(@Req() request: Request, @Res() response: Response): Promise<void> {
    const form = await readForm(request);
    const key = form.get('apiKey')?.trim() ?? '';
    const next = safeNext(form.get('next'));
    if (!key || !this.keys.ownerOf(key)) {
      sendPage(response, HttpStatus.UNAUTHORIZED, loginPage({ next, error: 'That API key is not valid.' }));
      return;
    }
    startSession(request, response, key);
    response.redirect(HttpStatus.SEE_OTHER, next);
  }

  @Post('logout')
  logout(@Req() request: Request, @Res() response: Response): void {
    endSession(request, response);
    response.redirect(HttpStatus.SEE_OTHER, '/login');
  }
}
