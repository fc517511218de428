// The security headers of the ops console (docs/console.md): a CSP without inline script or style,
// no framing, no referrer, no MIME sniffing, and HSTS on connections that arrived over TLS.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The console's Content-Security-Policy: everything from this origin, nothing inline, no framing. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/**
 * The API reference (Swagger UI at /docs) shares the console's origin and so its session: scripts
 * from this origin only. Swagger UI's page has an inline <style> and sets style attributes, hence
 * 'unsafe-inline' for styles (not scripts). Checked in Chromium: the page renders every operation.
 */
export const DOCS_CSP = CONSOLE_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");

/** Two years, subdomains included: what the HSTS preload list asks for. */
export const HSTS = 'max-age=63072000; includeSubDomains';

/**
 * Whether the request reached us over TLS: on this socket, or at the proxy in front (X-Forwarded-Proto).
 * Trusting the header is safe here: browsers ignore HSTS received over plain HTTP (RFC 6797 §8.1).
 */
export function arrivedOverTls(req: IncomingMessage): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted) return true;
  const forwarded = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

/** Headers every gateway response carries (API included). */
export function baseSecurityHeaders(tls: boolean): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(tls ? { 'strict-transport-security': HSTS } : {}),
  };
}

/** Headers of the console's pages and assets: the base set plus the CSP and framing rules. */
export function consoleSecurityHeaders(tls: boolean): Record<string, string> {
  return {
    ...baseSecurityHeaders(tls),
    'content-security-policy': CONSOLE_CSP,
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
}
