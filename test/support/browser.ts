import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * The Chromium the browser tests drive: `WEBHOOKS_TEST_CHROMIUM`, else Debian's package (`.ci/run` installs it).
 * `null` when there is none: the browser tests are then skipped, and say why.
 */
export const CHROMIUM: string | null = (() => {
  const given = process.env.WEBHOOKS_TEST_CHROMIUM;
  if (given) return existsSync(given) ? given : null;
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path)) ?? null;
})();

export const NO_CHROMIUM_MESSAGE = `no Chromium found (${process.env.WEBHOOKS_TEST_CHROMIUM ? `WEBHOOKS_TEST_CHROMIUM=${process.env.WEBHOOKS_TEST_CHROMIUM} does not exist` : 'looked for /usr/bin/chromium; install Debian’s chromium or set WEBHOOKS_TEST_CHROMIUM'})`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** A phone-sized screen (an iPhone 12-14's CSS pixels). */
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
export const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };

const IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));

/** Writes `docs/images/dashboard-<name>.png` (the viewport only) when `WEBHOOKS_UPDATE_SCREENSHOTS=1`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.WEBHOOKS_UPDATE_SCREENSHOTS !== '1') return;
  mkdirSync(IMAGES, { recursive: true });
  await page.screenshot({ path: `${IMAGES}dashboard-${name}.png`, fullPage: false, animations: 'disabled', caret: 'hide' });
}

/** Controls and links without an accessible name, as the browser's accessibility tree gives them (ARIA snapshot). */
export async function unnamedControls(page: Page): Promise<string[]> {
  const snapshot = await page.locator('body').ariaSnapshot();
  return snapshot.split('\n').filter((line) => /^\s*- (textbox|combobox|button|link|checkbox|radio|spinbutton|searchbox)(\s*\[[^\]]*\])*\s*:?\s*$/.test(line));
}

/**
 * Visible text whose colour against its background is under WCAG AA's 4.5:1, as "text: ratio". The background is
 * the nearest opaque one up the tree (the dashboard uses no translucent or image backgrounds).
 */
export function lowContrastTexts(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const parse = (c) => { const m = /rgba?\\(([^)]+)\\)/.exec(c); if (!m) return null; const [r, g, b, a = 1] = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return { r, g, b, a }; };
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    const luminance = ({ r, g, b }) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a === 1) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
    const low = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.textContent.trim() || !el.checkVisibility() || el.closest('option')) continue;
      const [high, lowL] = [luminance(parse(getComputedStyle(el).color)), luminance(background(el))].sort((p, q) => q - p);
      const ratio = (high + 0.05) / (lowL + 0.05);
      if (ratio < 4.5) low.push(node.textContent.trim().slice(0, 40) + ': ' + ratio.toFixed(2));
    }
    return low;
  })()`);
}

/** Whether the page is wider than the screen (a horizontal scrollbar on the page itself). */
export function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');
}

/** Presses Tab until an element matching `isTarget` has focus; returns what was focused on the way (tag and text). */
export async function tabUntil(page: Page, isTarget: (focused: { tag: string; text: string }) => boolean, maxTabs = 80): Promise<Array<{ tag: string; text: string }>> {
  const visited: Array<{ tag: string; text: string }> = [];
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate<{ tag: string; text: string }>(`(() => {
      const el = document.activeElement;
      return { tag: el ? el.tagName.toLowerCase() : '', text: ((el && (el.innerText || el.getAttribute('aria-label'))) || '').trim() };
    })()`);
    visited.push(focused);
    if (isTarget(focused)) return visited;
  }
  throw new Error(`not reached in ${maxTabs} Tab presses: ${visited.map((v) => `${v.tag}:${v.text}`).join(' | ')}`);
}

export type { Browser, BrowserContext, Page };
