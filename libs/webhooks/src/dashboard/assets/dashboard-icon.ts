/** The dashboard's icon (`<path>/assets/icon.svg`), so browsers do not ask the application for a favicon. */
export const DASHBOARD_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1b1f24"/><path d="M9 17a7 7 0 1 1 7 7M16 24l-4-3m4 3-4 3" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>`;
