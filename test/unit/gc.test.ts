import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { HEAP_GROWING_PERCENT, gcFlags } from '../../src/daemon/gc.js'

describe('daemon garbage collector flags', () => {
  it('raises the heap growing factor by default', () => {
    assert.deepEqual(gcFlags([]), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`])
  })

  it('leaves a factor the user set on the command line', () => {
    assert.deepEqual(gcFlags(['--heap-growing-percent=50']), [])
    assert.deepEqual(gcFlags(['--max-old-space-size=512', '--heap_growing_percent=80']), [])
  })

  it('is not confused by other flags', () => {
    assert.equal(gcFlags(['--max-old-space-size=512', '--inspect', '--trace-gc']).length, 1)
  })
})
