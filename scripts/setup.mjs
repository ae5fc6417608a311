#!/usr/bin/env node
// Set-up shared by `npm start`, `npm test` and `npm run bench`: makes sure the machine has the
// programs podnet drives, the npm dependencies and a fresh build. Dependency-free on purpose: it
// runs before `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each program podnet runs, and the Debian package that provides it. */
const programs = [
  ['ip', 'iproute2'],
  ['bridge', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['flock', 'util-linux'],
  ['sysctl', 'procps'],
  ['tcpdump', 'tcpdump'],
  ['tshark', 'tshark'],
  ['ping', 'iputils-ping'],
  ['busybox', 'busybox'],
  ['unshare', 'util-linux'],
  ['podman', 'podman'],
  ['runc', 'runc'],
  ['containerd', 'containerd'],
  ['ctr', 'containerd'],
  ['chromium', 'chromium'],
  ['dot', 'graphviz'],
  ['nft', 'nftables'],
  ['etcd', 'etcd-server'],
  ['etcdctl', 'etcd-client'],
  ['iperf3', 'iperf3'],
  ['ethtool', 'ethtool'],
  ['conntrack', 'conntrack'],
  ['unbound', 'unbound'],
  ['unbound-control', 'unbound'],
  ['dnsperf', 'dnsperf'],
  ['nslookup', 'bind9-dnsutils'],
  ['tmux', 'tmux'],
  ['ipset', 'ipset'],
  ['iptables-save', 'iptables'],
  ['iptables-restore', 'iptables'],
  ['cc', 'gcc'],
];
/** Files the tests and benchmarks compare against: the reference CNI plugins. */
const files = [
  ['/usr/lib/cni/bridge', 'containernetworking-plugins'],
  ['/usr/lib/cni/host-local', 'containernetworking-plugins'],
  ['/usr/lib/cni/loopback', 'containernetworking-plugins'],
  // The C library's headers, to build podnet's pause spawner (native/pause.c).
  ['/usr/include/sched.h', 'libc6-dev'],
];

const found = (cmd) => {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, cmd))) return true;
  }
  return false;
};

const missing = new Set([
  ...programs.filter(([cmd]) => !found(cmd)).map(([, pkg]) => pkg),
  ...files.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg),
]);

const run = (argv, env = {}) => {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  return r.status === 0;
};

if (missing.size > 0) {
  const pkgs = [...missing].sort().join(' ');
  if (process.getuid?.() !== 0) {
    console.error(`podnet setup: missing Debian packages: ${pkgs} — run as root: apt-get install -y ${pkgs}`);
    process.exit(1);
  }
  console.error(`podnet setup: installing ${pkgs}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!run(['apt-get', 'install', '-y', '-qq', ...missing], env)) {
    if (!run(['apt-get', 'update', '-qq'], env) || !run(['apt-get', 'install', '-y', '-qq', ...missing], env)) {
      console.error(`podnet setup: apt-get could not install ${pkgs}; install them by hand and retry`);
      process.exit(1);
    }
  }
}

const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(stamp) || statSync(lock).mtimeMs > statSync(stamp).mtimeMs) {
  console.error('podnet setup: npm ci');
  if (!run(['npm', 'ci', '--no-audit', '--no-fund', '--ignore-scripts'])) process.exit(1);
}
// A clean build: a file removed from src/ or test/ must not live on in dist/ (a stale test would run).
for (const dir of ['src', 'test', 'bench']) rmSync(join(root, 'dist', dir), { recursive: true, force: true });
if (!run([process.execPath, join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')])) {
  console.error('podnet setup: the TypeScript build failed (see above)');
  process.exit(1);
}
if (!run([process.execPath, join(root, 'scripts', 'bundle.mjs')])) {
  console.error('podnet setup: bundling the CLI failed (see above)');
  process.exit(1);
}
if (!run([process.execPath, join(root, 'scripts', 'native.mjs')])) process.exit(1);

// The front end of `podnet ui` (web/ → dist/web, served by podnet): rebuilt when a source is newer.
const newest = (path) => (statSync(path).isDirectory() ? Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n)))) : statSync(path).mtimeMs);
const built = join(root, 'dist', 'web', 'index.html');
if (!existsSync(built) || Math.max(newest(join(root, 'web')), newest(join(root, 'src', 'web', 'api.ts'))) > statSync(built).mtimeMs) {
  console.error('podnet setup: building the UI (vite)');
  if (!run([process.execPath, join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'web', 'tsconfig.json')])
    || !run([process.execPath, join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn', '-c', join(root, 'web', 'vite.config.ts')])) {
    console.error('podnet setup: the UI build failed (see above)');
    process.exit(1);
  }
}
