// `podnet doctor` on a test's lab as the CLI runs it: through persistent shells (made on first use,
// closed by the lab fixture's cleanup), the lab's target and state root.
import { Host } from '../../../src/host/host.js';
import { ShellRunner } from '../../../src/host/shell-runner.js';
import { doctor } from '../../../src/inspect/doctor/index.js';
import type { DoctorReport } from '../../../src/model/doctor/types.js';
import type { withLab } from '../helpers.js';

/** A function that runs doctor on `fx`'s lab (every node) and resolves with its report. */
export function doctorOf(fx: ReturnType<typeof withLab>): () => Promise<DoctorReport> {
  let shells: ShellRunner | undefined;
  return async () => {
    if (!shells) {
      shells = new ShellRunner(8);
      fx.cleanup(() => shells?.close());
    }
    return doctor(new Host(shells), await fx.target(), fx.root);
  };
}
