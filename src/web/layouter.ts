// Lays topologies out with ELK in a worker thread (src/web/layout-worker.ts), one at a time, started
// on first use and stopped by close(): the worker is terminated (a layout in flight is rejected) and
// none starts again — a worker left running would keep podnet alive after Ctrl-C.
import { Worker } from 'node:worker_threads';
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import type { GraphModel } from '../views/graph.js';
import type { Drawing, TopologyDoc } from './api.js';
import { toDrawing, toElk } from './layout.js';

type Answer = { seq: number; laid?: ElkNode; error?: string };

export class Layouter {
  private worker?: Worker;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (n: ElkNode) => void; reject: (e: Error) => void }>();
  private closed = false;

  /** The drawing of a topology. */
  async layout(doc: Pick<TopologyDoc, 'nodes' | 'edges' | 'underlay' | 'services'>): Promise<Drawing> {
    const { graph, labels } = toElk(doc);
    const seq = ++this.seq;
    const laid = await new Promise<ElkNode>((resolve, reject) => {
      if (this.closed) throw new Error('the layout worker was stopped');
      this.waiting.set(seq, { resolve, reject });
      this.start().postMessage({ seq, graph });
    });
    return toDrawing(laid, labels, doc);
  }

  /** Starts the worker and lays out a made-up node of 30 pods, so that ELK's code is compiled by the
   * time the first real topology arrives (a cold first layout of 250 pods takes ~0.5 s, warm ~0.25 s). */
  warm(): Promise<unknown> {
    const pods = Array.from({ length: 30 }, (_, i) => i);
    const id = (s: string) => `warm_${s}`;
    const graph: GraphModel = {
      node: 'warm', interfaces: [{ id: id('eth0'), name: 'eth0', kind: 'veth', ips: ['198.51.100.2/24'] }],
      bridges: [{ id: id('cni0'), name: 'cni0', ips: ['10.42.0.1/24'], uplink: id('eth0') }], vxlans: [], remotes: [],
      veths: pods.map((i) => ({ id: id(`v${i}`), name: `veth${i}`, label: `veth${i}@if2`, bridge: id('cni0'), hairpin: true, state: 'forwarding', peer: '', iface: id(`p${i}_eth0`) })),
      pods: pods.map((i) => ({ id: id(`p${i}`), netnsId: '', name: `pod${i}`, kind: 'pod', netns: '', ifaces: [{ id: id(`p${i}_eth0`), name: 'eth0', label: 'eth0@if9', ips: [`10.42.0.${i + 2}/24`], veth: id(`v${i}`) }] })),
    };
    const edges = [
      { id: 'u', source: id('eth0'), target: id('cni0'), kind: 'uplink' as const },
      ...pods.flatMap((i) => [
        { id: `b${i}`, source: id('cni0'), target: id(`v${i}`), kind: 'bridge-port' as const },
        { id: `p${i}`, source: id(`v${i}`), target: id(`p${i}_eth0`), kind: 'veth-pair' as const },
      ]),
    ];
    return this.layout({ nodes: [{ id: 'node:warm', name: 'warm', netnsId: '', netns: '', graph }], edges }).catch(() => undefined);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./layout-worker.js', import.meta.url));
    w.on('message', (a: Answer) => {
      const p = this.waiting.get(a.seq);
      this.waiting.delete(a.seq);
      if (a.laid) p?.resolve(a.laid);
      else p?.reject(new Error(`layout failed: ${a.error ?? 'no answer'}`));
    });
    w.on('error', (e) => this.fail(e));
    w.on('exit', () => {
      this.worker = undefined;
      this.fail(new Error('the layout worker stopped'));
    });
    this.worker = w;
    return w;
  }

  private fail(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  /** Stops the worker for good (a layout in flight is rejected; later ones are refused). */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    this.fail(new Error('the layout worker was stopped'));
    await w?.terminate();
  }
}
