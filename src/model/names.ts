// Names a user gives (labs, nodes, pods) and the rules they follow, without a schema library: the
// CLI checks its flags with these before it loads anything heavy. The topology schema uses the same
// rules (./topology.ts).
import { UserError } from './errors.js';

/** The most characters an interface name can hold (IFNAMSIZ − 1). */
export const IFNAME_MAX = 15;
/** The lab every command acts on when --name is not given. */
export const DEFAULT_LAB = 'demo';

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why `value` is not a DNS label of at most `max` characters (lowercase letters, digits, inner "-"),
 * as one phrase naming `what`; undefined when it is one. */
export function dnsLabelProblem(value: string, what: string, max: number, example: string): string | undefined {
  if (value.length === 0) return `${what} must not be empty`;
  if (value.length > max) return `${what} must be at most ${max} characters`;
  if (!DNS_LABEL.test(value)) return `${what} must be lowercase letters, digits and "-" (like "${example}")`;
  return undefined;
}

/** A problem with a field the user gave: its path and what to do; the message is one line. */
export class TopologyError extends UserError {
  constructor(readonly path: string, message: string) {
    super('usage', path ? `${path}: ${message}` : message);
    this.name = 'TopologyError';
  }
}

/** Checks a lab name (it becomes a directory and a namespace prefix): lowercase letters, digits and
 * "-", at most 20 characters. Throws a TopologyError naming `field`. */
export function checkLabName(name: string, field = '--name'): string {
  const problem = dnsLabelProblem(name, 'a lab name', 20, 'demo');
  if (problem) throw new TopologyError(field, `"${name}": ${problem}`);
  return name;
}

/** True when `name` is a valid lab name. */
export const isLabName = (name: string): boolean => dnsLabelProblem(name, '', 20, '') === undefined;
