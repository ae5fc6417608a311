// Where `podnet cni serve` listens unless told otherwise (a constant of its own, so the CLI's flag
// definitions can show it without loading the daemon).

/** The daemon's unix socket. */
export const DEFAULT_SOCKET = '/run/podnet/cni.sock';
