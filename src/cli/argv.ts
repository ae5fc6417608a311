// A check of the command line before commander parses it: every option before `--` must be one the
// chosen verb (or podnet itself) knows. Commander, on meeting an unknown option, also reads help flags
// in what follows it — even after `--` — so `podnet run web1 --labels app=web -- httpd -h /srv` would
// print help and exit 0 as if it had done its job. Here such a line is an error, and everything after
// `--` belongs to the command it introduces.
import type { Command, Option } from 'commander';
import { UserError } from '../model/errors.js';
import { formatCommand } from '../host/runner.js';

/** The options a command and its ancestors accept, and the help and version flags. */
function known(chain: readonly Command[]): Option[] {
  return chain.flatMap((c) => c.options as Option[]);
}

/** The option `token` names, with whether its value is in the token itself (`--name=x`, `-ojson`). */
function optionOf(opts: readonly Option[], token: string): { option: Option; inline: boolean } | undefined {
  const eq = token.indexOf('=');
  const flag = token.startsWith('--') && eq > 0 ? token.slice(0, eq) : token;
  const long = opts.find((o) => o.long === flag || (o.negate && o.long === flag));
  if (long) return { option: long, inline: eq > 0 };
  if (!token.startsWith('--') && token.length > 2) {
    const short = opts.find((o) => o.short === token.slice(0, 2));
    if (short && (short.required || short.optional)) return { option: short, inline: true };
  }
  const short = opts.find((o) => o.short === flag);
  return short ? { option: short, inline: false } : undefined;
}

const isHelp = (t: string) => t === '-h' || t === '--help' || t === '-V' || t === '--version';

/** The command line `podnet ARGS…` as a user could paste it. */
const commandLine = (args: readonly string[]) => formatCommand({ argv: ['podnet', ...args], mutates: false });

/** Throws a usage error for the first option before `--` that the chosen verb does not know. A verb
 * that runs a command gets the line to type instead: the same words with `--` before the command,
 * podnet's own options kept on podnet's side (`--name LAB` still picks the lab, wherever it was typed). */
export function checkArgv(program: Command, args: readonly string[]): void {
  const chain: Command[] = [program];
  /** Where the chosen verb's operands are in `args`. */
  let operands: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const t = args[i];
    if (t === '--') return;
    const cmd = chain[chain.length - 1];
    if (t.startsWith('-') && t !== '-') {
      if (isHelp(t)) return;
      const found = optionOf(known(chain), t);
      if (!found) {
        const own = cmd.registeredArguments.filter((a) => !a.variadic).length;
        // (Not when a -- follows: then the command is after it, and this option is podnet's, misspelt.)
        const takesCommand = cmd.registeredArguments.some((a) => a.variadic) && !args.slice(i).includes('--');
        const verb = chain.slice(1).map((c) => c.name()).join(' ');
        const moved = new Set(operands.slice(own));
        // podnet's own long options typed after the command's words (`… ip -br addr --name L`) go before --.
        const hoisted: string[] = [];
        const rest: string[] = [];
        for (let j = i; j < args.length; j++) {
          const w = optionOf(known(chain), args[j]);
          if (args[j].startsWith('--') && w) {
            hoisted.push(args[j]);
            if ((w.option.required || w.option.optional) && !w.inline && j + 1 < args.length) hoisted.push(args[++j]);
          } else {
            rest.push(args[j]);
          }
        }
        const line = [...args.slice(0, i).filter((_, k) => !moved.has(k)), ...hoisted, '--', ...[...moved].map((k) => args[k]), ...rest];
        const hint = takesCommand
          ? `: put the command after --, like ${commandLine(line)}`
          : ` for podnet ${verb || 'itself'} (see its --help)`;
        throw new UserError('usage', `unknown option '${t}'${hint}`);
      }
      if ((found.option.required || found.option.optional) && !found.inline) i++;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === t || c.aliases().includes(t));
    if (sub) {
      chain.push(sub);
      operands = [];
    } else {
      operands.push(i);
    }
  }
}
