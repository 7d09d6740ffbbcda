/**
 * The dashboard's stylesheet, served from `<path>/assets/dashboard.css` (the CSP allows styles from this origin
 * only). Colours keep a contrast of at least 4.5:1; states are also written out, never shown by colour alone.
 */
export const DASHBOARD_CSS = `
:root {
  --text: #1b1f24; --muted: #57606a; --bg: #f6f8fa; --card: #ffffff; --line: #d0d7de;
  --link: #0a4fb4; --focus: #0a4fb4; --accent: #0a4fb4; --accent-text: #ffffff;
  --danger: #a40e26; --ok-bg: #dafbe1; --ok: #0f5323; --bad-bg: #ffebe9; --bad: #86181d;
  --wait-bg: #fff8c5; --wait: #633c01; --off-bg: #eaeef2; --off: #3d444d;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text); background: var(--bg);
  line-height: 1.5;
}
* { box-sizing: border-box; }
body { margin: 0; font-size: 1rem; }
a { color: var(--link); text-underline-offset: 0.15em; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 2px; }
main:focus { outline: none; }
code, .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.875rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 0 0 0.75rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.5rem; }
p { margin: 0 0 0.75rem; }
.skip-link { position: absolute; left: 0.5rem; top: -3rem; background: var(--card); padding: 0.5rem 1rem; z-index: 10; }
.skip-link:focus { top: 0.5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.site-header { background: #1b1f24; color: #ffffff; }
.bar { max-width: 80rem; margin: 0 auto; padding: 0.5rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.5rem; }
.brand { color: #ffffff; font-weight: 700; font-size: 1.1rem; text-decoration: none; }
.site-header nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; margin: 0; padding: 0; }
.site-header nav a { color: #ffffff; display: inline-block; padding: 0.35rem 0.1rem; }
.site-header nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.site-header :focus-visible { outline-color: #ffffff; }
.logout { margin-left: auto; }
.logout .button-quiet { color: #ffffff; border-color: #8c959f; background: transparent; }
main { max-width: 80rem; margin: 0 auto; padding: 1rem; }
.breadcrumbs { font-size: 0.9rem; color: var(--muted); overflow-wrap: anywhere; }
.summary, .muted, .small { color: var(--muted); }
.small { font-size: 0.85rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; min-width: 0; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr)); gap: 1rem; align-items: start; }
.columns .card { margin-bottom: 0; }
.columns + * { margin-top: 1rem; }
section { margin-bottom: 1.5rem; }
.details { margin: 0 0 1rem; display: grid; gap: 0.4rem; }
.card > :last-child { margin-bottom: 0; }
.details div { display: grid; grid-template-columns: minmax(8rem, 12rem) 1fr; gap: 0.5rem; }
.details dt { font-weight: 600; color: var(--muted); }
.details dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.wrap { overflow-wrap: anywhere; word-break: break-all; }
.inline-list { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 0.75rem; }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.85rem; font-weight: 600; white-space: nowrap; border: 1px solid currentColor; }
.badge-successful, .badge-active { background: var(--ok-bg); color: var(--ok); }
.badge-failed { background: var(--bad-bg); color: var(--bad); }
.badge-pending { background: var(--wait-bg); color: var(--wait); }
.badge-inactive { background: var(--off-bg); color: var(--off); }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 0.75rem; }
th, td { text-align: left; vertical-align: top; padding: 0.5rem 0.75rem; border-top: 1px solid var(--line); }
thead th { background: var(--bg); font-size: 0.9rem; white-space: nowrap; }
tbody th { font-weight: 500; }
td code, th code { overflow-wrap: anywhere; }
td time, th time { white-space: nowrap; }
.empty { background: var(--card); border: 1px dashed var(--line); border-radius: 8px; padding: 1rem; }
pre.body { background: #f3f4f6; border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem; max-height: 28rem; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.button { display: inline-block; font: inherit; font-weight: 600; padding: 0.45rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); cursor: pointer; text-decoration: none; min-height: 2.5rem; }
.button:hover { filter: brightness(1.12); }
.button-quiet { background: var(--card); color: var(--link); border-color: var(--line); }
.button-danger { background: var(--danger); border-color: var(--danger); }
.actions { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 16rem), 1fr)); gap: 1rem; }
.action { border-top: 1px solid var(--line); padding-top: 0.5rem; }
.action h3 { margin-top: 0.25rem; }
.action-form { display: flex; flex-wrap: wrap; align-items: end; gap: 0.5rem; }
.action-form label { flex-basis: 100%; font-weight: 600; }
input, select { font: inherit; padding: 0.4rem 0.5rem; border: 1px solid #6e7781; border-radius: 6px; background: #ffffff; color: var(--text); min-height: 2.5rem; max-width: 100%; }
.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 13rem), 1fr)); gap: 0.75rem; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
.field { display: flex; flex-direction: column; gap: 0.25rem; min-width: 0; }
.field label { font-weight: 600; }
.field-buttons { flex-direction: row; flex-wrap: wrap; align-items: end; gap: 0.5rem; }
.pagination ul { list-style: none; display: flex; flex-wrap: wrap; gap: 1rem; padding: 0; }
.flash { border-radius: 8px; padding: 0.75rem 1rem; margin-bottom: 1rem; border: 1px solid; }
.flash p { margin: 0; overflow-wrap: anywhere; }
.flash-success { background: var(--ok-bg); color: var(--ok); }
.flash-error { background: var(--bad-bg); color: var(--bad); }
.flash a { color: inherit; }
.note { background: var(--wait-bg); color: var(--wait); padding: 0.5rem 0.75rem; border-radius: 6px; }
.secret { display: block; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f3f4f6; border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem; overflow-wrap: anywhere; margin-bottom: 0.75rem; }
.secret-card { border-color: var(--wait); }
@media (max-width: 40rem) {
  h1 { font-size: 1.35rem; }
  main { padding: 0.75rem; }
  .details div { grid-template-columns: 1fr; gap: 0; }
  .bar { gap: 0.25rem 1rem; }
  .id-line { display: none; }
  th, td { padding: 0.5rem; }
}
@media (prefers-reduced-motion: reduce) { * { scroll-behavior: auto; } }
`;
