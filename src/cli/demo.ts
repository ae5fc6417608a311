// `podnet demo`: the blog's session in one command — a K3s node with two busybox pods, the pods
// like kubectl shows them, a ping from pod1 to pod2, the node's interfaces with each veth matched to
// its pod, and the topology as the blog draws it. The lab stays up for the user to explore.
import type { Command } from 'commander';
import { ExecRunner } from '../host/runner.js';
import { labUp, podExecArgv, requireRoot } from '../lab/lab.js';
import { LabDir } from '../lab/state.js';
import { observeLab } from '../lab/observe.js';
import { defaultTopology, parseTopology } from '../model/topology.js';
import { fdbRows, interfaceRows, nodeDiagram, podRows } from '../model/views.js';
import { renderTable } from '../render/table.js';
import { renderMermaid } from '../render/mermaid.js';
import { DEFAULT_LAB, labDeps, out, say, type GlobalOptions } from './context.js';
import { showPods } from './get.js';

const heading = (title: string, command: string) => out(`\n== ${title}\n   $ ${command}\n`);

/** Registers `demo`. */
export function demoCommand(program: Command, global: () => GlobalOptions): void {
  program.command('demo')
    .description('bring up the blog\'s K3s node (pods pod1, pod2), ping between them, show interfaces and the diagram')
    .addHelpText('after', '\nExample:\n  sudo podnet demo     (then: podnet exec pod1 -- ip addr; podnet lab down)')
    .action(async () => {
      requireRoot('demo');
      const { deps } = labDeps(global());
      const dir = new LabDir(deps.stateRoot, DEFAULT_LAB);
      let state = await dir.read();
      if (state?.status === 'up') {
        say(`lab "${DEFAULT_LAB}" is already up: showing it (podnet lab down removes it)`);
      } else {
        const t = performance.now();
        state = await labUp(deps, DEFAULT_LAB, parseTopology(defaultTopology(2)));
        say(`lab "${DEFAULT_LAB}" is up: node server, pods ${state.pods.map((p) => p.name).join(', ')} in ${Math.round(performance.now() - t)} ms`);
      }

      heading('the pods, as kubectl get pods -o wide shows them', 'podnet get pods -o wide');
      await showPods(deps, DEFAULT_LAB, 'wide');

      const lab = await observeLab(deps.host, state);
      const rows = podRows(lab, new Date());
      const [from, to] = rows;
      if (from && to && to.ip !== '<none>') {
        heading(`ping ${from.name} -> ${to.name} from inside ${from.name}`, `podnet exec ${from.name} -- ping -c 3 ${to.ip}`);
        const r = await new ExecRunner().run({ argv: podExecArgv(state, from.name, ['ping', '-c', '3', '-i', '0.2', '-W', '2', to.ip]), mutates: false });
        out(r.stdout || r.stderr);
      }

      // Read the node again: the ping made the bridge learn the pods' MACs (the blog's FDB section).
      const after = await observeLab(deps.host, state);
      const node0 = state.plan.nodes[0];
      heading('what cni0 learned from the ping: its forwarding database, each MAC joined to its owner', `bridge -n ${node0.netns} fdb show br cni0`);
      out(renderTable(fdbRows(after, node0.name), [
        { header: 'MAC', cell: (r) => r.mac }, { header: 'PORT', cell: (r) => r.port },
        { header: 'KIND', cell: (r) => r.kind }, { header: 'OWNER', cell: (r) => r.owner },
      ]));
      out(`   learned: seen as a source on that port (the bridge forwards frames for this MAC there);\n`
        + '   permanent: the port\'s own MAC, installed by the kernel when the veth joined cni0.\n');

      heading(`the node's interfaces (cni0, the host veths, eth0), each veth matched to its pod's eth0@ifN`, `ip -n ${node0.netns} -d addr`);
      out(renderTable(interfaceRows(after, node0.name).filter((r) => r.name !== 'lo'), [
        { header: 'INTERFACE', cell: (r) => r.name }, { header: 'KIND', cell: (r) => r.kind }, { header: 'MASTER', cell: (r) => r.master || '-' },
        { header: 'MAC', cell: (r) => r.mac }, { header: 'MTU', cell: (r) => r.mtu }, { header: 'ADDRESS', cell: (r) => r.addresses || '-' },
        { header: 'CONNECTS TO', cell: (r) => r.peer || '-' },
      ]));

      const diagram = nodeDiagram(after, node0.name);
      if (diagram) {
        heading('the topology, shaped like the blog\'s diagram (paste into any Mermaid viewer)', 'podnet demo');
        out(renderMermaid([diagram]));
      }

      out(`\n== go on
   podnet exec pod1 -- ip addr            pod1's eth0@ifN, 10.42.0.x/24, MTU 1450
   podnet exec pod1 -- ip route           default via 10.42.0.1, 10.42.0.0/16 via 10.42.0.1
   ip -n ${node0.netns} link show master cni0     the host veths on the bridge
   bridge -n ${node0.netns} fdb show br cni0      the MACs the bridge has learned
   podnet run pod3                        one more pod (podnet delete pod pod3 removes it)
   podnet lab up --dry-run --name try     the exact commands a lab is made of
   podnet trace pod1 pod2 --cold          one packet's journey, hop by hop
   podnet ui                              all of it live in a browser (127.0.0.1, one-time URL)
   podnet lab up --nodes 3 --pods 6 --name multi --store etcd
                                          three nodes joined by flannel's VXLAN, leases in etcd
   podnet lab down                        remove the lab
`);
    });
}
