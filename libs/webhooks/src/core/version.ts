/** The library version, sent in the default `user-agent` (kept equal to package.json by a test). */
export const WEBHOOKS_VERSION = '0.1.0';
