import { DASHBOARD_PATH } from './dashboard-session.js';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The sign-in page: one labelled field for an API key. It uses the dashboard's own stylesheet (no inline styles: strict CSP). */
export function loginPage(options: { next: string; error?: string }): string {
  const error = options.error ? `<div class="flash flash-error" role="alert"><p>${escape(options.error)}</p></div>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · nest-webhooks example</title>
<link rel="icon" href="/${DASHBOARD_PATH}/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/${DASHBOARD_PATH}/assets/dashboard.css">
</head>
<body>
<header class="site-header"><div class="bar"><span class="brand">nest-webhooks example</span></div></header>
<main id="main">
<h1>Sign in to the webhook dashboard</h1>
${error}
<form method="post" action="/login" class="card">
  <input type="hidden" name="next" value="${escape(options.next)}">
  <div class="field">
    <label for="api-key">API key</label>
    <input id="api-key" name="apiKey" type="password" autocomplete="off" required>
  </div>
  <p class="small">The key you use with the management API (WEBHOOKS_API_KEYS). You see the subscriptions of its owner.</p>
  <button type="submit" class="button">Sign in</button>
</form>
</main>
</body>
</html>`;
}
