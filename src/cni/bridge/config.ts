// The bridge plugin's configuration (docs/facts.md#the-bridge-plugin), validated with zod.
import { z } from 'zod';
import { parseMac } from '../../model/mac.js';
import { isValidIfname, parseCniArgs, CniError, ErrorCode } from '../spec.js';
import { parseConfig } from '../validate.js';
import type { CniRequest } from '../plugin.js';

const ifname = z.string().refine(isValidIfname, { message: 'must be an interface name of 1–15 characters without "/", ":", "#", quotes, backslashes or spaces' });

const schema = z.looseObject({
  bridge: ifname.default('cni0'),
  isGateway: z.boolean().default(false),
  isDefaultGateway: z.boolean().default(false),
  forceAddress: z.boolean().default(false),
  ipMasq: z.boolean().default(false),
  mtu: z.number().int().min(0, { message: 'must be 0 (kernel default) or a positive MTU' }).max(65535).default(0),
  hairpinMode: z.boolean().default(false),
  promiscMode: z.boolean().default(false),
  vlan: z.number().int().min(0).max(4094).default(0),
  ipam: z.looseObject({ type: z.string().min(1, { message: 'must name an IPAM plugin such as "host-local"' }) }, { message: 'is required: the bridge plugin needs an IPAM plugin (e.g. {"type": "host-local", …})' }),
});

/** A bridge config after defaults and checks. */
export interface BridgeConf {
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  mtu: number;
  hairpinMode: boolean;
  promiscMode: boolean;
  vlan: number;
  ipamType: string;
  /** The container interface's MAC, if the runtime asked for one. */
  mac?: string;
  /** The MAC as asked for when it is not a MAC (only ADD and CHECK refuse it). */
  badMac?: string;
}

/** The checks only ADD and CHECK make: DEL (and GC, STATUS) of a config ADD refused must still succeed,
 * as in the reference, or a runtime would retry the DEL forever. */
export function refuseUnsupported(conf: BridgeConf): void {
  if (conf.vlan !== 0) throw new CniError(ErrorCode.UnsupportedField, 'vlan: podnet\'s bridge does not support VLANs yet; remove "vlan"');
  if (conf.hairpinMode && conf.promiscMode) throw new CniError(ErrorCode.InvalidConfig, 'cannot set hairpin mode and promiscuous mode at the same time');
  if (conf.badMac !== undefined) throw new CniError(ErrorCode.InvalidConfig, `MAC: "${conf.badMac}" is not a MAC address (like 0a:58:0a:2a:00:05)`);
}

/** CNI_ARGS keys the bridge plugin knows. */
export const BRIDGE_ARGS = ['MAC', 'IP', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID'];

/** Validates a bridge request's config and resolves the container MAC (CNI_ARGS MAC=, args.cni.mac, runtimeConfig.mac). */
export function bridgeConf(req: CniRequest): BridgeConf {
  const c = parseConfig(schema, req.config);
  const args = parseCniArgs(req.args, BRIDGE_ARGS);
  const fromArgs = (req.config.args as { cni?: { mac?: unknown } } | undefined)?.cni?.mac;
  const fromRuntime = (req.config.runtimeConfig as { mac?: unknown } | undefined)?.mac;
  const rawMac = args.get('MAC') ?? (typeof fromArgs === 'string' ? fromArgs : undefined) ?? (typeof fromRuntime === 'string' ? fromRuntime : undefined);
  const mac = rawMac === undefined ? undefined : parseMac(rawMac);
  return {
    bridge: c.bridge,
    isGateway: c.isGateway || c.isDefaultGateway,
    isDefaultGateway: c.isDefaultGateway,
    forceAddress: c.forceAddress,
    ipMasq: c.ipMasq,
    mtu: c.mtu,
    hairpinMode: c.hairpinMode,
    promiscMode: c.promiscMode,
    vlan: c.vlan,
    ipamType: c.ipam.type,
    ...(mac ? { mac } : {}),
    ...(rawMac !== undefined && !mac ? { badMac: rawMac } : {}),
  };
}
