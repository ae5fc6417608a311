// The lab's outside host: a namespace `podnet-<lab>-outside` on the underlay switch standing for the
// internet, or a client outside the cluster. It holds the underlay's second-to-last address
// (198.51.100.253; the lab's etcd takes the last) and no route beyond the underlay — it reaches the
// nodes' addresses on the link, never pod IPs, and nothing leaves the lab through it. A small web
// server runs in it (busybox httpd, a lab process: marked, stopped by `lab down`): `/` names the
// host, `/cgi-bin/ip` answers with the address the request came from (what a pod's egress looks
// like after flannel's masquerade), and its log (`<lab dir>/outside/httpd.log`) records every peer.
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../host/dirs.js';
import { addrAdd, linkAddVeth, linkSetMaster, linkSetUp } from '../host/ip-lines.js';
import { processStart } from '../host/process.js';
import { addIp, addressOf, broadcastOf, parseCidr, type CidrText } from '../model/ip.js';
import type { LabDeps } from './deps.js';
import type { LabPlan } from './plan.js';
import { labNetns, outsideNetnsName } from './names.js';
import type { LabDir } from './state.js';

/** The outside host's name, as `podnet exec` takes it, and its port on the underlay switch. */
export const OUTSIDE = 'outside';

/** The outside host's address on the underlay: the second-to-last (198.51.100.253/24). */
export function outsideIP(plan: Pick<LabPlan, 'underlay'>): CidrText {
  const c = parseCidr(plan.underlay.cidr);
  return `${addIp(broadcastOf(c), -2)}/${c.prefix}`;
}

/** Why a lab gets no outside host (a node holds its name or its address), or undefined when it gets one. */
export function outsideConflict(plan: Pick<LabPlan, 'underlay' | 'nodes'>): string | undefined {
  const ip = addressOf(outsideIP(plan));
  const clash = plan.nodes.find((n) => n.name === OUTSIDE || addressOf(n.ip) === ip);
  return clash && `node "${clash.name}" ${clash.name === OUTSIDE ? 'has the outside host\'s name' : `holds its address ${ip}`}`;
}

/** The outside host's namespace for `lab up` to make: none when it is not wanted or a node conflicts
 * (then `warn` says why). */
export function outsideNamespaces(plan: Pick<LabPlan, 'lab' | 'underlay' | 'nodes'>, wanted: boolean, warn?: (line: string) => void): string[] {
  if (!wanted) return [];
  const conflict = outsideConflict(plan);
  if (conflict) warn?.(`no outside host in lab "${plan.lab}": ${conflict}`);
  return conflict ? [] : [outsideNetnsName(plan.lab)];
}

/** Where the outside host keeps its page, its CGI and its log. */
export const outsideDir = (dir: LabDir): string => join(dir.dir, OUTSIDE);

/** Writes the page and the CGI the web server serves (files of the lab's, like its state: a dry run
 * writes none, so a replayed dry-run script makes the outside host without its web server). */
async function writeSite(root: string, lab: string, ip: string): Promise<void> {
  await ensureDir(join(root, 'www', 'cgi-bin'));
  await writeFile(join(root, 'www', 'index.html'), `podnet outside host ${ip} (lab ${lab}): the world outside the cluster\n`, { mode: 0o644 });
  const cgi = join(root, 'www', 'cgi-bin', 'ip');
  await writeFile(cgi, '#!/bin/sh\n# The address this request came from, as the outside host saw it.\nprintf \'Content-Type: text/plain\\r\\n\\r\\n%s\\n\' "$REMOTE_ADDR"\n', { mode: 0o755 });
  await chmod(cgi, 0o755);
}

/** The web server's argv: busybox httpd in the foreground, logging each request's peer to
 * `ROOT/httpd.log`. Equivalent to: `sh -c 'exec busybox httpd -f -vv -p 0.0.0.0:80 -h ROOT/www >>ROOT/httpd.log 2>&1'`. */
export function httpdArgv(root: string): string[] {
  return ['sh', '-c', 'exec busybox httpd -f -vv -p 0.0.0.0:80 -h "$0/www" >>"$0/httpd.log" 2>&1', root];
}

/** Joins the outside namespace (made by the caller) to the underlay switch, gives it its address, and
 * starts its web server as a process of the lab. Resolves with the server's PID. */
export async function startOutside(deps: LabDeps, dir: LabDir, plan: Pick<LabPlan, 'lab' | 'underlay'>): Promise<number> {
  const ns = outsideNetnsName(plan.lab);
  const ip = outsideIP(plan);
  const u = plan.underlay;
  (await deps.host.net(labNetns(u.netns)).batch([linkAddVeth(OUTSIDE, 'eth0', { peerNetns: ns }), linkSetMaster(OUTSIDE, u.bridge), linkSetUp(OUTSIDE)])).ok();
  (await deps.host.net(labNetns(ns)).batch([linkSetUp('lo'), linkSetUp('eth0'), addrAdd(ip, 'eth0')])).ok();
  const root = outsideDir(dir);
  if (!deps.host.dryRun) await writeSite(root, plan.lab, addressOf(ip));
  return processStart(deps.host.runner, labNetns(ns), httpdArgv(root), plan.lab);
}

/** True when lab `lab` has its outside host (its namespace exists). */
export function outsideExists(deps: LabDeps, lab: string): Promise<boolean> {
  return deps.host.exists(labNetns(outsideNetnsName(lab)).path);
}
