// Finding tracefs in /proc/self/mountinfo (the lines are real ones from this machine; the escaped one
// is what the kernel prints for a mount point with a space).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracefsMountPoints } from '../../../src/host/tracefs.js';

test('tracefs mount points are read from mountinfo, octal escapes decoded, other filesystems ignored', () => {
  const mountinfo = [
    '22 27 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
    '50 27 0:13 / /tmp/podnet-kernel-explore-tfs rw,relatime - tracefs nodev rw',
    '51 22 0:13 / /sys/kernel/tracing rw,nosuid,nodev,noexec,relatime shared:9 - tracefs tracefs rw',
    '52 27 0:13 / /tmp/with\\040space rw,relatime - tracefs nodev rw',
    '53 27 0:7 / /sys/kernel/debug rw,relatime - debugfs debugfs rw',
    '54 27 0:99 / /mnt/x rw - fuse.tracefs x rw',
    'garbage',
    '',
  ].join('\n');
  assert.deepEqual(tracefsMountPoints(mountinfo), ['/tmp/podnet-kernel-explore-tfs', '/sys/kernel/tracing', '/tmp/with space']);
  assert.deepEqual(tracefsMountPoints(''), []);
});
