// `podnet ui`: serve the live topology, element details and packet journeys to a browser on
// 127.0.0.1, until Ctrl-C. Prints a URL with a one-time token; opens nothing by itself.
import type { Command } from 'commander';
import { requireRoot } from '../lab/lab.js';
import { LabError } from '../lab/errors.js';
import { startUi } from '../web/server.js';
import { checkLabName } from '../model/topology.js';
import { DEFAULT_LAB, labDeps, labName, out, say, type GlobalOptions } from './context.js';

interface UiFlags {
  lab?: string;
  name?: string;
  host?: boolean;
  port: number;
  allowChanges?: boolean;
}

const portNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new LabError(`--port: "${v}" is not a port (1-65535, or 0 for any free port)`);
  return n;
};

/** Registers `ui`. */
export function uiCommand(program: Command, global: () => GlobalOptions): void {
  program.command('ui')
    .description('show the pod network in a browser, live: topology, details of any element, a packet\'s journey')
    .option('--lab <name>', `the lab to show (default: ${DEFAULT_LAB})`, (v: string) => checkLabName(v, '--lab'))
    .option('--name <name>', 'the same as --lab', labName)
    .option('--host', 'show this machine (a K3s node, say) instead of a lab; always read-only')
    .option('--port <port>', 'the port on 127.0.0.1 (default: any free port)', portNumber, 0)
    .option('--allow-changes', 'let the page add and delete pods and add nodes (labs only)')
    .addHelpText('after', '\nIt listens on 127.0.0.1 only and prints a URL with a one-time token; open it in a browser on this\nmachine (from elsewhere: ssh -L PORT:127.0.0.1:PORT this-machine).\n\nExamples:\n  podnet ui                                the demo lab, read-only\n  podnet ui --lab big --port 8080 --allow-changes\n  podnet ui --host                         this machine, read-only')
    .action(async (o: UiFlags) => {
      if (o.host && (o.lab || o.name)) throw new LabError('give one of --lab or --host');
      if (o.lab && o.name && o.lab !== o.name) throw new LabError('give one of --lab or --name');
      requireRoot('ui');
      const { deps } = labDeps(global(), 8);
      const target = o.host ? { host: true as const } : { lab: o.lab ?? o.name ?? DEFAULT_LAB };
      const ui = await startUi({ runner: deps.host.runner, deps, target, allowChanges: !!o.allowChanges, port: o.port });
      const what = 'host' in target ? 'this host' : `lab "${target.lab}"`;
      say(`podnet ui: serving ${what}${o.allowChanges ? ' (changes allowed)' : ', read-only'} on 127.0.0.1:${ui.port}; open this URL once (Ctrl-C stops it):`);
      out(`${ui.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await ui.close();
      say('podnet ui: stopped');
    });
}
