import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PendingWrites, PieceFile } from '../../src/util/fs.js'
import { delay } from '../../src/util/concurrency.js'

describe('PendingWrites', () => {
  it('waits for every write: all throws the first error, settled waits for the rest and never throws', async () => {
    const writes = new PendingWrites()
    let slowDone = false
    writes.add(Promise.reject(new Error('ENOSPC')))
    writes.add(delay(20).then(() => { slowDone = true }))
    await assert.rejects(writes.all(), /ENOSPC/)
    await writes.settled()
    assert.equal(slowDone, true, 'settled waited for the slow write')
  })
})

describe('PieceFile', () => {
  const path = join(tmpdir(), `backpack-piecefile-${process.pid}`)

  it('writes pieces at their offsets, in whatever order they come, and keeps the file after finish', async () => {
    const file = await PieceFile.create(path)
    try {
      file.write([Uint8Array.of(4, 5), Uint8Array.of(6)], 3)
      file.write([Uint8Array.of(1, 2, 3)], 0)
      await file.finish(true)
      assert.deepEqual([...await readFile(path)], [1, 2, 3, 4, 5, 6])
      assert.equal((await stat(path)).mode & 0o777, 0o600)
    } finally {
      await rm(path, { force: true })
    }
  })

  it('removes the file on discard, after its writes have settled', async () => {
    const file = await PieceFile.create(path)
    file.write([new Uint8Array(1024)], 0)
    await file.discard()
    await assert.rejects(stat(path), { code: 'ENOENT' })
  })

  it('discard after a failed finish still removes the file', async () => {
    const file = await PieceFile.create(path)
    // not bytes: the write fails
    file.write(['x' as unknown as Uint8Array], 0)
    await assert.rejects(file.finish(false), { code: 'ERR_INVALID_ARG_TYPE' })
    await file.discard()
    await assert.rejects(stat(path), { code: 'ENOENT' })
  })
})
