/**
 * The app's Content-Security-Policy, one definition for every way the renderer is served:
 * the page's meta tag (Electron loads it from a file, so only the meta applies there), the
 * headers of `headway serve`, and the headers Electron adds in development.
 * Vite's dev server injects styles and a hot-reload socket, so dev relaxes exactly those.
 */
export interface CspOptions {
  /** Vite dev server (hot reload): inline styles and its WebSocket allowed. */
  dev?: boolean;
  /** Extra connect-src sources (browser mode lists its own ws:// origin). */
  connect?: readonly string[];
  /** Headers only: frame-ancestors is ignored in a meta tag. */
  header?: boolean;
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const connect = ["'self'", ...(options.connect ?? []), ...(options.dev ? ['ws:', 'http://localhost:*'] : [])];
  const directives = [
    "default-src 'self'",
    "script-src 'self'",
    options.dev ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "worker-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ];
  if (options.header) directives.push("frame-ancestors 'none'");
  return directives.join('; ');
}
