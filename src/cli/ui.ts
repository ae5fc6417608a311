// `podnet ui`: serve the live topology, element details and packet journeys to a browser on
// 127.0.0.1, until Ctrl-C. Prints a URL with a one-time token; opens nothing by itself.
import type { Command } from 'commander';
import { checkLabName } from '../model/names.js';
import { DEFAULT_LAB, labName, lazy, portNumber, type GlobalOptions } from './flags.js';

/** Registers `ui`. */
export function uiCommand(program: Command, global: () => GlobalOptions): void {
  program.command('ui')
    .description('show the pod network in a browser, live: topology, details of any element, a packet\'s journey')
    .option('--lab <name>', `the lab to show (default: ${DEFAULT_LAB}; an error when it is not up)`, (v: string) => checkLabName(v, '--lab'))
    .option('--name <name>', 'the same as --lab', labName)
    .option('--host', 'show this machine (a K3s node, say) instead of a lab; always read-only')
    .option('--port <port>', 'the port on 127.0.0.1 (default: any free port)', portNumber('--port', true), 0)
    .option('--allow-changes', 'let the page add and delete pods and add nodes (labs only)')
    .addHelpText('after', '\nIt listens on 127.0.0.1 only and prints a URL with a one-time token; open it in a browser on this\nmachine (from elsewhere: ssh -L PORT:127.0.0.1:PORT this-machine).\n\nExamples:\n  podnet ui                                the demo lab, read-only\n  podnet ui --lab big --port 8080 --allow-changes\n  podnet ui --host                         this machine, read-only')
    .action(lazy(() => import('./actions/ui.js'), (m) => m.uiVerb, global));
}
