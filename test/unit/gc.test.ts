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

describe("the CLI's Node.js flags (its shebang)", () => {
  it('the built CLI runs with a small young generation, and its tests and benchmark start it with the same flags', async () => {
    const { shebangFlags } = await import('../../src/cli/shebang.js')
    const { CLI, NODE_ARGS } = await import('../helpers/cli.js')
    assert.deepEqual(shebangFlags(CLI), ['--max-semi-space-size=4'])
    assert.deepEqual(NODE_ARGS, ['--max-semi-space-size=4', CLI])
  })

  it('reads flags only from an `env -S node` line', async () => {
    const { shebangFlags } = await import('../../src/cli/shebang.js')
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = await mkdtemp(join(tmpdir(), 'bp-shebang-'))
    try {
      const cases: Array<[string, string[]]> = [
        ['#!/usr/bin/env node\n', []],
        ['#!/usr/bin/env -S node --a=1 --b\nx\n', ['--a=1', '--b']],
        ['#!/usr/bin/env -S node\n', []],
        ['console.log(1)\n', []]
      ]
      for (const [text, flags] of cases) {
        await writeFile(join(dir, 's.js'), text)
        assert.deepEqual(shebangFlags(join(dir, 's.js')), flags, text)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
