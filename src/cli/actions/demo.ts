// The work of `podnet demo` (loaded only when the verb runs): the blog's session in one command, each
// output under the podnet command that prints it, so a learner can retype any of them.
import { labDeps } from '../context.js';
import { labUp } from '../../lab/lifecycle.js';
import { podOf } from '../../lab/pods.js';
import { labNetns } from '../../lab/names.js';
import { LabDir } from '../../lab/state.js';
import { inspectTarget } from '../../inspect/inspect.js';
import { processRun } from '../../host/process.js';
import { defaultTopology, parseTopology } from '../../model/topology.js';
import { inspectPods } from '../../views/index.js';
import { renderTable } from '../../render/table.js';
import { fdbColumns, podColumns, renderGraphMermaid } from '../../render/inspect/index.js';
import { DEFAULT_LAB, out, requireRoot, say, terminalWidth, type GlobalOptions } from '../flags.js';
import { showPods } from './get.js';
import { fdbRows, graphOf } from './inspect.js';
import { renderClusterMermaid } from '../../render/inspect/cluster.js';

const heading = (title: string, command: string) => out(`\n== ${title}\n   $ ${command}\n`);

const GO_ON = (node: string) => `
== go on
   podnet exec pod1 -- ip addr            pod1's eth0@ifN, 10.42.0.x/24, MTU 1450
   podnet exec pod1 -- ip route           default via 10.42.0.1, 10.42.0.0/16 via 10.42.0.1
   ip -n ${node} link show master cni0     the host veths on the bridge (the raw view of "podnet inspect")
   bridge -n ${node} fdb show br cni0      the raw forwarding database (the raw view of "podnet inspect fdb")
   podnet run pod3                        one more pod (podnet delete pod pod3 removes it)
   podnet lab up --dry-run --name try     the exact commands a lab is made of
   podnet trace pod1 pod2 --cold          one packet's journey, hop by hop
   podnet ui                              all of it live in a browser (127.0.0.1, one-time URL)
   podnet lab up --nodes 3 --pods 6 --name multi --store etcd
                                          three nodes joined by flannel's VXLAN, leases in etcd
   podnet lab down                        remove the lab
`;

/** `podnet demo`. */
export async function demoVerb(g: GlobalOptions): Promise<void> {
  requireRoot('demo');
  const { deps } = labDeps(g);
  let state = await new LabDir(deps.stateRoot, DEFAULT_LAB).read();
  if (state?.status === 'up') {
    say(`lab "${DEFAULT_LAB}" is already up: showing it (podnet lab down removes it)`);
  } else {
    const t = performance.now();
    state = await labUp(deps, DEFAULT_LAB, parseTopology(defaultTopology(2)));
    say(`lab "${DEFAULT_LAB}" is up: node server, pods ${state.pods.map((p) => p.name).join(', ')} in ${Math.round(performance.now() - t)} ms`);
  }

  heading('the pods, as kubectl get pods -o wide shows them', 'podnet get pods -o wide');
  await showPods(deps, DEFAULT_LAB, 'wide');

  const [from, to] = state.pods;
  if (from && to?.ip) {
    heading(`ping ${from.name} -> ${to.name} from inside ${from.name}`, `podnet exec ${from.name} -- ping -c 3 ${to.ip}`);
    const r = await processRun(deps.host.runner, labNetns(podOf(state, from.name).netns), ['ping', '-c', '3', '-i', '0.2', '-W', '2', to.ip], { mutates: false });
    out(r.stdout || r.stderr);
  }

  // One scan after the ping: the bridge has learned the pods' MACs (the blog's FDB section).
  const s = await inspectTarget(deps.host, { kind: 'lab', lab: DEFAULT_LAB, state }, deps.stateRoot);
  heading('each pod\'s eth0@ifN matched to its host veth on cni0 (the blog\'s veth hunt)', 'podnet inspect');
  out(renderTable(inspectPods(s), podColumns, undefined, terminalWidth()));
  heading('what cni0 learned from the ping: its forwarding database, each MAC joined to its owner', 'podnet inspect fdb --bridge cni0 --no-multicast');
  out(renderTable(fdbRows(s, { bridge: 'cni0', multicast: false }), fdbColumns, undefined, terminalWidth()));
  out('   learned: seen as a source on that port (the bridge forwards frames for this MAC there);\n'
    + '   permanent: the port\'s own MAC, installed by the kernel when the veth joined cni0.\n');
  heading('the topology, shaped like the blog\'s diagram (paste into any Mermaid viewer)', 'podnet graph');
  const drawing = await graphOf(deps, { kind: 'lab', lab: DEFAULT_LAB, state });
  out('graph' in drawing ? renderGraphMermaid(drawing.graph) : renderClusterMermaid(drawing.cluster));
  out(GO_ON(state.plan.nodes[0].netns));
}
