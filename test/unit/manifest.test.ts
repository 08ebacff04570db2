import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { cidOf } from '../../src/chunking/index.js'
import { encodeManifest, decodeManifest } from '../../src/backup/manifest.js'
import { Manifest } from '../../src/backup/pb/manifest.js'

describe('manifest', () => {
  it('round-trips every field of a backup', () => {
    const chunks = Array.from({ length: 5 }, () => ({ cid: cidOf(randomBytes(10)).toString(), size: 64000, holders: ['somebody'] }))
    const entry = {
      name: 'photos/été/café ☕.jpg',
      size: 4 * 64000 + 17,
      mode: 0o100644,
      mtime: 1_700_000_000_123,
      created: 1_800_000_000_456,
      replicas: 3,
      chunkSize: 64000,
      chunks
    }
    const got = decodeManifest('the-id', encodeManifest(entry))
    assert.deepEqual(got, {
      ...entry,
      id: 'the-id',
      chunks: chunks.map(c => ({ ...c, holders: [] })),
      manifest: { holders: [] }
    })
  })

  it('round-trips an empty file (no chunks) and sizes beyond 4 GiB', () => {
    const entry = { name: 'empty', size: 0, mode: 0o644, mtime: 0, created: 1, replicas: 2, chunkSize: 1024 * 1024, chunks: [] }
    assert.deepEqual(decodeManifest('x', encodeManifest(entry)).chunks, [])
    const big = { ...entry, size: 5 * 1024 ** 3 }
    assert.equal(decodeManifest('x', encodeManifest(big)).size, 5 * 1024 ** 3)
  })

  it('refuses malformed bytes and unknown versions with ProtocolError', () => {
    assert.throws(() => decodeManifest('x', Uint8Array.of(0xff, 0xff, 0xff, 0xff)), { name: 'ProtocolError' })
    const future = Manifest.encode({ version: 99, name: 'a', size: 0n, mode: 0, mtime: 0n, replicas: 1, chunkSize: 1, chunks: [], created: 0n })
    assert.throws(() => decodeManifest('x', future), { name: 'ProtocolError' })
  })
})
