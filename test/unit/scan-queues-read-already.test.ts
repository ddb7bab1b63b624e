// QueueReader given the answers the scan read as it read each holder (ScanResult.queued): it takes
// them as it takes its own calls' answers, a shared instance once (its first holder's answer),
// refusals as refusals, a gone process or a closed fd as nothing read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InotifyInstance } from '../../src/model/types.js';
import { parseInotifyFdinfo } from '../../src/scan/parse.js';
import { QueueReader, queueKey } from '../../src/scan/queues.js';
import { queueCalls } from '../../src/sys/queues.js';
import { ERRNO } from '../../src/sys/errno.js';
import { scannedProcess } from '../helpers/rows.js';

const NO_WATCHES = parseInotifyFdinfo(new Uint8Array(0));

function instance(fd: number, instanceId: string): InotifyInstance {
  return { fd, watches: NO_WATCHES, listKey: '', instanceId, shared: instanceId !== '' };
}

test('the answers the scan read are taken as the calls would answer', { skip: queueCalls().ok ? false : 'no pidfd calls here' }, () => {
  const holders = [
    // 10:3 and 11:3 are one instance (10:3's id, as markShared gives it); 11:3's answer is not taken.
    scannedProcess(10, 0, { instances: [instance(3, '10:3'), instance(4, '10:4')] }),
    scannedProcess(11, 0, { instances: [instance(3, '10:3'), instance(5, '11:5')] }),
    // Refused, closed meanwhile, and an errno nothing else explains.
    scannedProcess(12, 0, { instances: [instance(3, '12:3'), instance(4, '12:4'), instance(5, '12:5')] }),
    // Its pidfd could not be opened (gone): no answer at all.
    scannedProcess(13, 0, { instances: [instance(3, '13:3')] }),
  ];
  const readAlready = new Map([
    ['10:3', 120],
    ['10:4', 0],
    ['11:3', 999],
    ['11:5', 32],
    ['12:3', -ERRNO.EPERM],
    ['12:4', -ERRNO.EBADF],
    ['12:5', -ERRNO.ENOTTY],
  ]);
  const byPid = new Map(holders.map((proc) => [proc.pid, proc]));
  const readings = new QueueReader(true).read(holders, 1_000, readAlready);
  const bytesOf = (id: string) => readings.bytes.get(queueKey(id, byPid));
  assert.deepEqual(['10:3', '10:4', '11:5', '12:3', '12:4', '12:5', '13:3'].map(bytesOf), [120, 0, 32, null, null, null, null]);
  assert.equal(readings.bytes.size, 7, 'the shared instance once');
  assert.deepEqual(readings.notes, [
    'event queues of 2 instances not readable (queuedBytes null): pidfd_getfd needs ptrace permission (root or CAP_SYS_PTRACE) (also ENOTTY)',
  ]);
});
