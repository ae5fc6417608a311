// The `portmap` slot of K3s's conflist (capability portMappings), kept by podnet: a chained plugin
// that hands the previous plugin's result on unchanged. podnet does not map ports (no DNAT chains):
// a request that asks for mappings is refused with the spec's code 2, saying to chain the reference
// `portmap` instead, rather than succeeding while the ports stay closed. DEL always succeeds (a
// refused ADD made nothing), so a runtime never retries it forever.
import { CniError, ErrorCode, SUPPORTED_VERSIONS, type CniResult } from './spec.js';
import type { CniPlugin, NetConf } from './plugin.js';

/** Refuses a request that carries port mappings (`runtimeConfig.portMappings`, not empty). */
function refuseMappings(config: NetConf): void {
  const mappings = config.runtimeConfig?.portMappings;
  if (mappings === undefined || (Array.isArray(mappings) && mappings.length === 0)) return;
  throw new CniError(ErrorCode.UnsupportedField,
    `runtimeConfig.portMappings: ${JSON.stringify(mappings).slice(0, 200)}: podnet does not map ports; chain the reference "portmap" plugin from CNI_PATH (type "portmap", e.g. /usr/lib/cni/portmap) instead of "${config.type}"`);
}

/** The previous plugin's result, which a chained plugin needs. */
function prevResultOf(config: NetConf): CniResult {
  if (!config.prevResult) throw new CniError(ErrorCode.InvalidConfig, `prevResult: missing; "${config.type}" is a chained plugin: put it after a plugin that returns a result (flannel, bridge) in a conflist`);
  return config.prevResult;
}

/** The pass-through portmap plugin. */
export const portmap: CniPlugin = {
  type: 'portmap',
  versions: SUPPORTED_VERSIONS,
  async add(req) {
    refuseMappings(req.config);
    return prevResultOf(req.config);
  },
  async del() {
    // Nothing was made.
  },
  async check(req) {
    refuseMappings(req.config);
    prevResultOf(req.config);
  },
};
