import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import type { SafeHtml } from './html.js';

/** Where scripts, styles, forms and frames may come from: this origin only, nothing inline. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Forms are a few short fields; anything bigger is refused before it is read. */
const MAX_FORM_BYTES = 16 * 1024;

/** The request as the dashboard reads it: Express's, with what body parsers and the router may have added. */
export type DashboardIncoming = IncomingMessage & { body?: unknown; secure?: boolean; route?: { path?: unknown }; originalUrl?: string };

/** Options of a cookie the dashboard sets: always HttpOnly and SameSite=Strict, scoped to a path. */
interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge?: number;
}

/** The cookies of a request by name, each with every value sent, in order; a malformed value is left out. */
export function readCookies(request: IncomingMessage): Map<string, string[]> {
  const cookies = new Map<string, string[]>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    try {
      const value = decodeURIComponent(part.slice(at + 1).trim());
      const key = part.slice(0, at).trim();
      cookies.set(key, [...(cookies.get(key) ?? []), value]);
    } catch {
      // a malformed value is treated as absent
    }
  }
  return cookies;
}

/**
 * One request and its response, at the level of Node's HTTP objects (the Express platform's request and
 * response are those): cookies in and out, forms, pages and redirects, each sent with the dashboard's
 * security headers.
 */
export class DashboardExchange {
  private readonly outgoingCookies: string[] = [];
  private received: Map<string, string[]> | undefined;

  constructor(
    readonly request: DashboardIncoming,
    private readonly response: ServerResponse,
    /** The dashboard's URL path (global prefix included), without a trailing slash. */
    readonly base: string,
  ) {}

  /** The path and query the browser asked for. */
  get url(): string {
    return this.request.originalUrl ?? this.request.url ?? this.base;
  }

  get secure(): boolean {
    return this.request.secure === true || (this.request.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  }

  /** The value of cookie `name`: the first the browser sent (the one with the most specific path). */
  cookie(name: string): string | undefined {
    return this.cookies(name)[0];
  }

  /**
   * Every value of cookie `name`, in the order the browser sent them: a cookie of the same name set for a parent
   * domain or a shorter path arrives beside the dashboard's own.
   */
  cookies(name: string): readonly string[] {
    this.received ??= readCookies(this.request);
    return this.received.get(name) ?? [];
  }

  setCookie(name: string, value: string, options: CookieOptions): void {
    const attributes = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path}`, 'HttpOnly', 'SameSite=Strict'];
    if (options.maxAge !== undefined) attributes.push(`Max-Age=${options.maxAge}`);
    if (this.secure) attributes.push('Secure');
    this.outgoingCookies.push(attributes.join('; '));
  }

  /**
   * The fields of a URL-encoded form: parsed here unless a body parser of the application already did (into
   * fields, or into the raw bytes when the application parses every body raw).
   */
  async form(): Promise<URLSearchParams> {
    const { request } = this;
    if (request.readableEnded) {
      const body = request.body;
      if (Buffer.isBuffer(body)) {
        this.requireForm(body.length);
        return new URLSearchParams(body.toString('utf8'));
      }
      if (body && typeof body === 'object') {
        return new URLSearchParams(Object.entries(body as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
      }
      return new URLSearchParams(typeof body === 'string' ? body : '');
    }
    this.requireForm(Number(request.headers['content-length'] ?? 0));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_FORM_BYTES) throw new PayloadTooLargeException('The form is too large');
      chunks.push(chunk as Buffer);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  /** Refuses a body that is not a URL-encoded form, or one larger than a form of the dashboard gets. */
  private requireForm(bytes: number): void {
    const type = String(this.request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') throw new BadRequestException('Send the form as application/x-www-form-urlencoded');
    if (bytes > MAX_FORM_BYTES) throw new PayloadTooLargeException('The form is too large');
  }

  /** Sends a page with the security headers and no caching (pages show live data, some of it once). */
  page(status: number, body: SafeHtml): void {
    this.send(status, 'text/html; charset=utf-8', `<!doctype html>\n${body.markup}`, 'no-store');
  }

  /** A 303 to `location` (POST/redirect/GET), with the cookies set so far. */
  redirect(location: string): void {
    this.headers('no-store');
    this.response.statusCode = 303;
    this.response.setHeader('Location', location);
    this.response.end();
  }

  /** A static asset (the stylesheet, the script). */
  asset(contentType: string, body: string): void {
    this.send(200, contentType, body, 'public, max-age=3600');
  }

  private send(status: number, contentType: string, body: string, cacheControl: string): void {
    this.headers(cacheControl);
    this.response.statusCode = status;
    this.response.setHeader('Content-Type', contentType);
    this.response.setHeader('Content-Length', Buffer.byteLength(body));
    this.response.end(body);
  }

  private headers(cacheControl: string): void {
    const response = this.response;
    response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('X-Frame-Options', 'DENY');
    response.setHeader('Referrer-Policy', 'same-origin');
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.setHeader('Cache-Control', cacheControl);
    if (this.outgoingCookies.length > 0) {
      // Added to what the application's middleware may have set already, never in its place.
      const earlier = response.getHeader('Set-Cookie');
      response.setHeader('Set-Cookie', [...(earlier === undefined ? [] : Array.isArray(earlier) ? earlier : [String(earlier)]), ...this.outgoingCookies]);
    }
  }
}

/** What every dashboard route has below its mount path: a first segment of its own, or the catch-all. */
const ROUTE_TAIL = String.raw`(?:/(?:subscriptions|deliveries|assets)(?:/.*)?|/\*path)?$`;

/**
 * The dashboard's URL path for a request: the registered route (global prefix included) up to the mount path,
 * whatever the prefix holds (even the mount path itself). Falls back to `/<path>` when the router did not say.
 */
export function dashboardBase(request: DashboardIncoming, path: string): string {
  const route = typeof request.route?.path === 'string' ? request.route.path : '';
  const mount = new RegExp(`^(.*/${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})${ROUTE_TAIL}`).exec(route);
  return mount ? mount[1]! : `/${path}`;
}
