// Who may talk to `podnet ui`: a one-time token from the printed URL is exchanged for a session
// cookie (HttpOnly, SameSite=Strict), and every request must carry that cookie; the Host header
// must name the address the server listens on (so a DNS-rebinding page cannot reach it); a request
// that changes something must come from the page itself (Origin) and carry JSON.
import { createHash, randomBytes } from 'node:crypto';

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');
const fresh = () => randomBytes(32).toString('base64url');

/** Login tokens (each good once) and the sessions they opened. Only hashes are kept, so a lookup
 * takes the same time whatever prefix of a secret is right. */
export class Sessions {
  private readonly tokens = new Set<string>();
  private readonly sessions = new Set<string>();

  /** A new one-time login token. */
  mintToken(): string {
    const t = fresh();
    this.tokens.add(digest(t));
    return t;
  }

  /** Spends a login token; the new session's secret, or undefined when the token is unknown or spent. */
  redeem(token: string): string | undefined {
    if (!this.tokens.delete(digest(token))) return undefined;
    const s = fresh();
    this.sessions.add(digest(s));
    return s;
  }

  /** True for the secret of an open session. */
  valid(session: string | undefined): boolean {
    return session !== undefined && this.sessions.has(digest(session));
  }
}

/** The session cookie's name: one per port, so two servers on one machine keep their own. */
export const cookieName = (port: number): string => `podnet_ui_${port}`;

/** The Host header values a browser sends to this server: its address (or localhost) and port. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

/** The origin the page is served from, for Origin checks. */
export function allowedOrigins(port: number): Set<string> {
  return new Set([...allowedHosts(port)].map((h) => `http://${h}`));
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value for a session: the browser's session only, never sent cross-site, unreadable by scripts. */
export function sessionCookie(port: number, secret: string): string {
  return `${cookieName(port)}=${secret}; Path=/; HttpOnly; SameSite=Strict`;
}

/** Headers on every answer: nothing from elsewhere, no framing, no sniffing, no referrer, no caching of the API. */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
