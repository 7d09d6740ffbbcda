import type { DashboardExchange } from './dashboard-exchange.js';

/** A message shown once, on the page a form action redirects to. */
export interface Flash {
  kind: 'success' | 'error';
  text: string;
  /** A page of the dashboard the message refers to (for example the attempt an action created). */
  link?: { href: string; label: string };
}

const FLASH_COOKIE = 'webhooks_dashboard_flash';

/** Keeps `flash` for the next page this browser opens (a short-lived cookie). */
export function setFlash(exchange: DashboardExchange, flash: Flash): void {
  exchange.setCookie(FLASH_COOKIE, Buffer.from(JSON.stringify(flash)).toString('base64url'), { path: exchange.base, maxAge: 60 });
}

/** The message left by the last action, once: reading it deletes it. Anything malformed is dropped. */
export function takeFlash(exchange: DashboardExchange): Flash | null {
  const raw = exchange.cookie(FLASH_COOKIE);
  if (raw === undefined) return null;
  exchange.setCookie(FLASH_COOKIE, '', { path: exchange.base, maxAge: 0 });
  let parsed: Partial<Flash>;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Flash>;
  } catch {
    return null;
  }
  if ((parsed.kind !== 'success' && parsed.kind !== 'error') || typeof parsed.text !== 'string') return null;
  const link = parsed.link;
  // Only links into the dashboard itself: the cookie is the browser's, and could have been changed.
  const linkOk = link && typeof link.label === 'string' && typeof link.href === 'string' && link.href.startsWith(`${exchange.base}/`);
  return { kind: parsed.kind, text: parsed.text.slice(0, 500), ...(linkOk ? { link: { href: link.href, label: link.label } } : {}) };
}
