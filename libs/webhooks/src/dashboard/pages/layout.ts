import { CSRF_FIELD } from '../csrf.js';
import type { Flash } from '../flash.js';
import { html, type SafeHtml } from '../html.js';

/** What every page needs besides its own content. */
export interface PageContext {
  /** The dashboard's title (`title` option). */
  title: string;
  /** The dashboard's URL path, without a trailing slash. */
  base: string;
  /** The CSRF token for this page's forms (empty on pages without a principal). */
  csrf: string;
  flash: Flash | null;
  logoutUrl: string | null;
  /** The navigation entry this page belongs to. */
  section: 'subscriptions' | 'deliveries' | null;
}

function flashMessage(flash: Flash | null): SafeHtml | null {
  if (!flash) return null;
  // An error interrupts (role=alert); a confirmation is announced politely (role=status). The script focuses it
  // (tabindex=-1): a live region present on load is not always announced, the focused element is.
  return html`<div class="flash flash-${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}" tabindex="-1">
  <p><strong>${flash.kind === 'error' ? 'Not done: ' : 'Done: '}</strong>${flash.text}${flash.link ? html` <a href="${flash.link.href}">${flash.link.label}</a>` : null}</p>
</div>`;
}

function navLink(context: PageContext, section: PageContext['section'], href: string, label: string): SafeHtml {
  return html`<li><a href="${href}"${context.section === section ? html` aria-current="page"` : null}>${label}</a></li>`;
}

/** The page around `content`: head, skip link, header with navigation, the flash message, and `<main>`. */
export function layout(context: PageContext, pageTitle: string, content: SafeHtml): SafeHtml {
  const { base } = context;
  const logout = context.logoutUrl
    ? html`<form method="post" action="${context.logoutUrl}" class="logout">
  <input type="hidden" name="${CSRF_FIELD}" value="${context.csrf}">
  <button type="submit" class="button button-quiet">Sign out</button>
</form>`
    : null;
  return html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${pageTitle} · ${context.title}</title>
<link rel="icon" href="${base}/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${base}/assets/dashboard.css">
<script src="${base}/assets/dashboard.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <div class="bar">
    <a class="brand" href="${base}">${context.title}</a>
    <nav aria-label="Dashboard">
      <ul>
        ${navLink(context, 'subscriptions', base, 'Subscriptions')}
        ${navLink(context, 'deliveries', `${base}/deliveries`, 'Deliveries')}
      </ul>
    </nav>
    ${logout}
  </div>
</header>
<main id="main" tabindex="-1">
${flashMessage(context.flash)}
${content}
</main>
</body>
</html>`;
}
