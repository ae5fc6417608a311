// The CNI specification as data: commands, environment, results, error codes and version rules
// (docs/facts.md#cni). Pure.

/** The operations a runtime asks of a plugin (CNI_COMMAND). */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
export const CNI_COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

/** Spec versions podnet speaks, oldest first. */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
/** The version podnet writes when nothing else is asked for. */
export const CURRENT_VERSION = '1.1.0';

/** The spec's error codes. */
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  NotReady: 50,
  NotReadyPodsAffected: 51,
  /** What the reference skel uses for errors that carry no code of their own. */
  Internal: 999,
} as const;

/** A plugin's error: printed as the spec's error JSON on stdout with a non-zero exit. */
export class CniError extends Error {
  constructor(readonly code: number, msg: string, readonly details = '') {
    super(msg);
    this.name = 'CniError';
  }

  /** The spec's error object. */
  toJSON(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** What the runtime passes in the environment. */
export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS as given: `K=V;K=V`. */
  args: string;
  path: string[];
}

/** One interface in a result. */
export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}
/** One IP in a result; `interface` indexes `interfaces`. */
export interface CniIp {
  address: string;
  gateway?: string;
  interface?: number;
  /** Only in results before 1.0.0. */
  version?: '4' | '6';
}
/** One route in a result. */
export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}
/** DNS settings in a result. */
export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}
/** An ADD result. */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: CniRoute[];
  dns?: CniDns;
}

const versionParts = (v: string) => v.split('.').map((n) => Number(n));

/** Compares spec versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** Throws code 1 unless `version` is one podnet speaks. */
export function requireSupportedVersion(version: string, supported: readonly string[] = SUPPORTED_VERSIONS): void {
  if (!supported.includes(version)) {
    throw new CniError(ErrorCode.IncompatibleVersion, `incompatible CNI versions; config is "${version}", plugin supports [${supported.map((v) => `"${v}"`).join(' ')}]`);
  }
}

/** Converts a result to the version that came in (results are printed in the config's version). */
export function resultForVersion(result: CniResult, version: string): CniResult {
  const out: CniResult = { ...result, cniVersion: version };
  if (compareVersions(version, '1.0.0') < 0) {
    out.ips = result.ips?.map((ip) => ({ ...ip, version: ip.address.includes(':') ? '6' : '4' }));
  } else {
    out.ips = result.ips?.map(({ version: _v, ...ip }) => ip);
  }
  if (compareVersions(version, '1.1.0') < 0) {
    out.routes = result.routes?.map(({ dst, gw }) => (gw ? { dst, gw } : { dst }));
    out.interfaces = result.interfaces?.map(({ name, mac, sandbox }) => ({ name, ...(mac ? { mac } : {}), ...(sandbox !== undefined ? { sandbox } : {}) }));
  }
  for (const k of ['interfaces', 'ips', 'routes'] as const) if (out[k] === undefined) delete out[k];
  if (out.dns === undefined) delete out.dns;
  return out;
}

/** CNI_ARGS parsed: `IgnoreUnknown=1;K8S_POD_NAME=x` → Map. Unknown keys are code 2 unless IgnoreUnknown is true. */
export function parseCniArgs(raw: string, known: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!raw) return out;
  for (const pair of raw.split(';')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(ErrorCode.InvalidEnv, `CNI_ARGS: "${pair}" is not KEY=VALUE`);
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const ignore = /^(1|true)$/i.test(out.get('IgnoreUnknown') ?? '');
  if (!ignore) {
    const unknown = [...out.keys()].filter((k) => k !== 'IgnoreUnknown' && !known.includes(k));
    if (unknown.length > 0) {
      throw new CniError(ErrorCode.UnsupportedField, `CNI_ARGS: unknown key "${unknown[0]}" (known: ${known.join(', ') || 'none'}; add IgnoreUnknown=1 to allow others)`);
    }
  }
  return out;
}

const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Reads and checks the CNI_* environment; missing or bad variables are code 4. */
export function parseEnv(env: Record<string, string | undefined>): CniEnv {
  const command = env.CNI_COMMAND as CniCommand | undefined;
  if (!command) throw new CniError(ErrorCode.InvalidEnv, 'required env variables [CNI_COMMAND] missing');
  if (!CNI_COMMANDS.includes(command)) throw new CniError(ErrorCode.InvalidEnv, `unknown CNI_COMMAND: ${command} (one of ${CNI_COMMANDS.join(', ')})`);
  const need: Record<string, readonly CniCommand[]> = {
    CNI_CONTAINERID: ['ADD', 'DEL', 'CHECK'],
    CNI_NETNS: ['ADD', 'CHECK'],
    CNI_IFNAME: ['ADD', 'DEL', 'CHECK'],
  };
  const missing = Object.entries(need).filter(([k, cmds]) => cmds.includes(command) && !env[k]).map(([k]) => k);
  if (missing.length > 0) throw new CniError(ErrorCode.InvalidEnv, `required env variables [${missing.join(',')}] missing`);
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId && !CONTAINER_ID_RE.test(containerId)) {
    throw new CniError(ErrorCode.InvalidEnv, `CNI_CONTAINERID "${containerId}" is invalid: it must match ${CONTAINER_ID_RE.source}`);
  }
  const ifname = env.CNI_IFNAME ?? '';
  if (ifname && !isValidIfname(ifname)) {
    throw new CniError(ErrorCode.InvalidEnv, `CNI_IFNAME "${ifname}" is not a valid interface name (1–15 characters, no "/", ":", "#", quotes, backslashes or spaces)`);
  }
  // Like the reference skel: every command but VERSION needs the plugin path (delegates are found there).
  if (command !== 'VERSION' && !env.CNI_PATH) throw new CniError(ErrorCode.InvalidEnv, 'required env variables [CNI_PATH] missing');
  return {
    command,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    args: env.CNI_ARGS ?? '',
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
}

/** True for a name the kernel accepts for an interface (IFNAMSIZ − 1 = 15 bytes). */
export function isValidIfname(name: string): boolean {
  // The kernel takes more (anything but "/", ":" and blanks); podnet also refuses what iproute2's batch
  // input cannot carry or would read differently: "#" ends a line there, quotes and backslashes quote.
  return name.length > 0 && Buffer.byteLength(name) <= 15 && name !== '.' && name !== '..' && !/[/:\s#"'\\\p{Cc}]/u.test(name);
}
