import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { NoSpaceError, NotFoundError, describeError } from '../../src/errors.js'

describe('describeError (what the control API tells a client)', () => {
  it('names a full disk NoSpaceError, from a system error or a datastore I/O error', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    assert.equal(describeError(enospc).name, 'NoSpaceError')
    // datastore-level wraps LevelDB's error as the message of its own
    const level = Object.assign(new Error('Error: IO error: /repo/datastore/000003.log: No space left on device'), { name: 'PutFailedError' })
    assert.deepEqual(describeError(level), {
      name: 'NoSpaceError',
      message: "no space left on this node's disk: IO error: /repo/datastore/000003.log: No space left on device"
    })
  })

  it('keeps the name and message of other errors, without a repeated "Error: "', () => {
    assert.deepEqual(describeError(new NotFoundError('no backup x')), { name: 'NotFoundError', message: 'no backup x' })
    assert.deepEqual(describeError(new NoSpaceError('no space for 5 bytes')), { name: 'NoSpaceError', message: 'no space for 5 bytes' })
    assert.deepEqual(describeError(new Error('Error: boom')), { name: 'Error', message: 'boom' })
    assert.deepEqual(describeError('plain'), { name: 'Error', message: 'plain' })
  })
})
