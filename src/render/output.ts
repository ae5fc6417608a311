// One place that turns a view into the format the user asked for with -o.
import YAML from 'yaml';

/** Output formats every listing verb accepts. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** JSON (2-space indent) or YAML of a view; the documented machine-readable shapes. */
export function renderData(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : YAML.stringify(data);
}
