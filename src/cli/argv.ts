// A check of the command line before commander parses it: every option before `--` must be one the
// chosen verb (or podnet itself) knows. Commander, on meeting an unknown option, also reads help flags
// in what follows it — even after `--` — so `podnet run web1 --labels app=web -- httpd -h /srv` would
// print help and exit 0 as if it had done its job. Here such a line is an error, and everything after
// `--` belongs to the command it introduces.
import type { Command, Option } from 'commander';
import { UserError } from '../model/errors.js';

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

/** Throws a usage error for the first option before `--` that the chosen verb does not know. */
export function checkArgv(program: Command, args: readonly string[]): void {
  const chain: Command[] = [program];
  let operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const t = args[i];
    if (t === '--') return;
    const cmd = chain[chain.length - 1];
    if (t.startsWith('-') && t !== '-') {
      if (isHelp(t)) return;
      const found = optionOf(known(chain), t);
      if (!found) {
        const own = cmd.registeredArguments.filter((a) => !a.variadic).length;
        const takesCommand = cmd.registeredArguments.some((a) => a.variadic);
        const verb = chain.slice(1).map((c) => c.name()).join(' ');
        const hint = takesCommand
          ? `: put the command after --, like podnet ${verb} ${[...operands.slice(0, own), '--', ...operands.slice(own), ...args.slice(i)].join(' ')}`
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
      operands.push(t);
    }
  }
}
