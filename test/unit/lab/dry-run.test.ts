// Golden test of `lab up --dry-run`: the exact commands, in order, for the default lab with a seeded
// random source. UPDATE_GOLDEN=1 rewrites the file after a deliberate change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Host } from '../../../src/host/host.js';
import { RecordingRunner } from '../../../src/host/runner.js';
import { labUp } from '../../../src/lab/lifecycle.js';
import { labDown } from '../../../src/lab/down.js';
import { defaultTopology, parseTopology } from '../../../src/model/topology.js';
import { seededRandom } from '../seeded.js';

const golden = fileURLToPath(new URL('../../../../test/fixtures/lab-up-dry-run.golden', import.meta.url));

test('lab up --dry-run prints the same pasteable script every time and changes nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'podnet-dry-'));
  try {
    const run = async () => {
      const rec = new RecordingRunner();
      // dns: true as `podnet lab up` (without --no-dns) asks for it.
      await labUp({ host: new Host(rec, true), stateRoot: root, random: seededRandom('golden') }, 'demo', parseTopology(defaultTopology(2)), { dns: true });
      return rec.script().split(root).join('<stateRoot>'); // the outside host's files live under the (temp) state root
    };
    const script = await run();
    assert.equal(await run(), script, 'two dry runs differ');
    assert.deepEqual(await readdir(root), [], 'a dry run wrote state');
    if (process.env.UPDATE_GOLDEN) await writeFile(golden, `${script}\n`);
    assert.equal(`${script}\n`, await readFile(golden, 'utf8'));
    assert.match(script, /^ip -force -batch - <<'EOF'\nnetns add podnet-demo-underlay\nnetns add podnet-demo-server\nnetns add podnet-demo-cni-/);
    assert.match(script, /link add veth[0-9a-f]{8} mtu 1450 type veth peer name eth0 mtu 1450 address [0-9a-f:]{17} netns \/run\/netns\/podnet-demo-cni-/);
    assert.match(script, /addr add 10\.42\.0\.2\/24 dev eth0\nroute add 10\.42\.0\.0\/16 via 10\.42\.0\.1 dev eth0\nroute add 0\.0\.0\.0\/0 via 10\.42\.0\.1 dev eth0/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('lab down --dry-run of a lab that is not up records nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'podnet-dry-'));
  try {
    const rec = new RecordingRunner();
    assert.equal(await labDown({ host: new Host(rec, true), stateRoot: root, random: seededRandom('x') }, 'nolab'), false);
    assert.equal(rec.script(), '');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
