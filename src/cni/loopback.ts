// The loopback plugin: brings `lo` up in the container's namespace (containerd runs it for every pod).
import { SUPPORTED_VERSIONS, CniError, ErrorCode, type CniResult } from './spec.js';
import type { CniPlugin, CniRequest, PluginContext } from './plugin.js';
import { openNetns } from './netns.js';
import { isKind } from '../host/errors.js';
import { linkSetDown, linkSetUp } from '../host/ip-lines.js';

/** ADD: `ip -n NS link set lo up`; the result names `lo` with 127.0.0.1/8 and ::1/128. */
async function add(req: CniRequest, ctx: PluginContext): Promise<CniResult> {
  const ns = await openNetns(ctx.host, req.netns);
  (await ctx.host.net(ns).batch([linkSetUp('lo')])).ok();
  return {
    cniVersion: req.config.cniVersion,
    interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: req.netns }],
    ips: [{ address: '127.0.0.1/8', interface: 0 }, { address: '::1/128', interface: 0 }],
  };
}

/** DEL: `ip -n NS link set lo down`; a namespace already gone is success. */
async function del(req: CniRequest, ctx: PluginContext): Promise<void> {
  if (!req.netns || !(await ctx.host.exists(req.netns))) return;
  try {
    (await ctx.host.net(await openNetns(ctx.host, req.netns)).batch([linkSetDown('lo')])).ok((f) => f.kind === 'not-found');
  } catch (e) {
    if (!isKind(e, 'not-found')) throw e;
  }
}

/** CHECK: `lo` must be up. */
async function check(req: CniRequest, ctx: PluginContext): Promise<void> {
  const lo = await ctx.host.net(await openNetns(ctx.host, req.netns)).linkByName('lo');
  if (!lo?.up) throw new CniError(ErrorCode.Internal, `loopback interface is down in ${req.netns}`);
}

/** The loopback plugin. */
export const loopback: CniPlugin = { type: 'loopback', versions: SUPPORTED_VERSIONS, add, del, check };
