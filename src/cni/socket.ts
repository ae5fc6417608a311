// Where `podnet cni serve` listens unless told otherwise (a constant of its own, so the CLI's flag
// definitions can show it without loading the daemon).

/** The daemon's unix socket. */
export const DEFAULT_SOCKET = '/run/podnet/cni.sock';

/** How long a daemon the plugin clients started waits without a request before it exits, by default (s). */
export const DEFAULT_IDLE_EXIT_S = 300;
