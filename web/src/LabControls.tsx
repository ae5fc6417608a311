// Changing the lab from the page (only when `podnet ui --allow-changes` serves a lab): add a pod on a
// node, delete a pod, add a node. The drawing follows through the live topology, not from here.
import { useState } from 'react';
import { call } from './client';

interface Props {
  nodes: string[];
  pods: string[];
}

export function LabControls({ nodes, pods }: Props) {
  const [podName, setPodName] = useState('');
  const [node, setNode] = useState('');
  const [victim, setVictim] = useState('');
  const [nodeName, setNodeName] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setMessage(undefined);
    try {
      setMessage({ ok: true, text: await what() });
    } catch (e) {
      setMessage({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  const addPod = () => act(async () => {
    const p = await call<{ name: string; node: string; ip: string }>('POST', '/api/pods', { name: podName.trim(), ...(node ? { node } : {}) });
    setPodName('');
    return `pod ${p.name} created on ${p.node}: ${p.ip}`;
  });
  const deletePod = () => act(async () => {
    const name = victim || pods[0];
    await call('DELETE', `/api/pods/${encodeURIComponent(name)}`);
    setVictim('');
    return `pod ${name} deleted`;
  });
  const addNode = () => act(async () => {
    const n = await call<{ name: string; ip: string; podCIDR: string }>('POST', '/api/nodes', { name: nodeName.trim() });
    setNodeName('');
    return `node ${n.name} added: ${n.ip}, pods in ${n.podCIDR}`;
  });

  return (
    <div className="lab-controls">
      <form onSubmit={(e) => { e.preventDefault(); void addPod(); }}>
        <h3>Add a pod</h3>
        <input name="pod" value={podName} onChange={(e) => setPodName(e.target.value)} placeholder="pod name" />
        <select name="node" value={node} onChange={(e) => setNode(e.target.value)}>
          <option value="">least busy node</option>
          {nodes.map((n) => <option key={n}>{n}</option>)}
        </select>
        <button type="submit" disabled={busy || !podName.trim()}>add pod</button>
      </form>
      <form onSubmit={(e) => { e.preventDefault(); void deletePod(); }}>
        <h3>Delete a pod</h3>
        <select name="victim" value={victim || pods[0] || ''} onChange={(e) => setVictim(e.target.value)}>
          {pods.map((p) => <option key={p}>{p}</option>)}
        </select>
        <button type="submit" disabled={busy || pods.length === 0}>delete pod</button>
      </form>
      <form onSubmit={(e) => { e.preventDefault(); void addNode(); }}>
        <h3>Add a node</h3>
        <input name="nodeName" value={nodeName} onChange={(e) => setNodeName(e.target.value)} placeholder="node name" maxLength={15} />
        <button type="submit" disabled={busy || !nodeName.trim()}>add node</button>
      </form>
      {busy && <p className="hint">working…</p>}
      {message && <p className={message.ok ? 'ok' : 'error'} data-testid="lab-message">{message.text}</p>}
    </div>
  );
}
