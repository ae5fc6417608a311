// One place that turns a view into the format the user asked for with -o.
import { createRequire } from 'node:module';

/** The yaml package, loaded the first time YAML is asked for: most runs print a table or JSON, and
 * yaml's ~100 kB would otherwise be evaluated at start-up by every verb that can print YAML
 * (docs/benchmarks.md, "Start-up"). */
let yaml: typeof import('yaml') | undefined;
const YAML = () => (yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

/** Output formats every listing verb accepts. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** JSON (2-space indent) or YAML of a view; the documented machine-readable shapes. */
export function renderData(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : YAML().stringify(data);
}
