/**
 * The console's security headers. The page is the service's own code and nothing else: scripts,
 * styles and fetches from this origin only, no inline script or style (esbuild writes them to
 * files; Preact and uPlot set styles through the DOM, which CSP allows), no plugins, no framing, no
 * base or form redirections, and no Referer header carrying a console URL anywhere. /docs keeps its
 * own (Swagger UI needs inline styles): these apply to /console only.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};
