/**
 * The dashboard's only script, served from `<path>/assets/dashboard.js`: a progressive enhancement. Every page
 * works without it; with it, the message after an action takes the focus (so it is read out), and a one-time
 * secret gets a "Copy" button.
 */
export const DASHBOARD_JS = `
(() => {
  document.querySelector('.flash')?.focus();
  for (const source of document.querySelectorAll('[data-copy]')) {
    if (!navigator.clipboard) continue;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button-quiet';
    button.textContent = 'Copy secret';
    const status = document.createElement('span');
    status.setAttribute('role', 'status');
    status.className = 'small';
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        status.textContent = ' Copied.';
      } catch {
        status.textContent = ' Copying failed: select the secret and copy it.';
      }
    });
    source.after(button, status);
  }
})();
`;
