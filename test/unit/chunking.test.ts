import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { cidChecker, cidOf, cidOfParts, matchesCid, parseChunkCid, readPieces } from '../../src/chunking/index.js'
import type { Piece } from '../../src/chunking/index.js'
import { tempDir } from '../helpers/tmp.js'

async function pieces (path: string, size: number): Promise<Piece[]> {
  const out: Piece[] = []
  for await (const p of readPieces(path, size)) out.push({ ...p, bytes: Uint8Array.from(p.bytes) })
  return out
}

describe('chunking', () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => { ({ dir, cleanup } = await tempDir()) })
  after(async () => { await cleanup() })

  async function file (name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, bytes)
    return path
  }

  it('reads an empty file as no pieces', async () => {
    assert.deepEqual(await pieces(await file('empty', new Uint8Array(0)), 1024), [])
  })

  it('reads a 1-byte file as one 1-byte piece', async () => {
    const got = await pieces(await file('one', Uint8Array.of(42)), 1024 * 1024)
    assert.equal(got.length, 1)
    assert.deepEqual([...got[0].bytes], [42])
    assert.equal(got[0].index, 0)
    assert.equal(got[0].offset, 0)
  })

  it('reads an exact multiple of the chunk size as full pieces and no empty tail', async () => {
    const size = 64000
    const data = randomBytes(size * 3)
    const got = await pieces(await file('multiple', data), size)
    assert.equal(got.length, 3)
    for (const [i, p] of got.entries()) {
      assert.equal(p.index, i)
      assert.equal(p.offset, i * size)
      assert.equal(p.bytes.byteLength, size)
      assert.ok(Buffer.from(p.bytes).equals(data.subarray(i * size, (i + 1) * size)))
    }
  })

  it('reads 64000-byte chunks with a short last piece, and the pieces rebuild the file', async () => {
    const data = randomBytes(64000 * 2 + 17)
    const got = await pieces(await file('short-tail', data), 64000)
    assert.deepEqual(got.map(p => p.bytes.byteLength), [64000, 64000, 17])
    assert.ok(Buffer.concat(got.map(p => p.bytes)).equals(data))
  })

  it('gives each piece its own buffer (a consumer may keep them)', async () => {
    const data = randomBytes(3000)
    const kept: Uint8Array[] = []
    for await (const p of readPieces(await file('keep', data), 1024)) kept.push(p.bytes)
    assert.ok(Buffer.concat(kept).equals(data))
  })

  it('stops when the signal aborts', async () => {
    const path = await file('abort', randomBytes(4096))
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await assert.rejects(async () => { for await (const _ of readPieces(path, 1024, { signal: controller.signal })) { /* nothing */ } }, /stop/)
  })

  it('names a chunk by a stable CIDv1 raw sha2-256', () => {
    const bytes = new TextEncoder().encode('hello backpack')
    const cid = cidOf(bytes)
    assert.equal(cid.version, 1)
    assert.equal(cid.code, raw.code)
    assert.equal(cid.multihash.code, 0x12)
    assert.ok(Buffer.from(cid.multihash.digest).equals(createHash('sha256').update(bytes).digest()))
    assert.equal(cidOf(bytes).toString(), cid.toString())
    // a known value: sha256 of the empty string as a raw CIDv1
    assert.equal(cidOf(new Uint8Array(0)).toString(), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
    assert.notEqual(cidOf(Uint8Array.of(1)).toString(), cidOf(Uint8Array.of(2)).toString())
  })

  it('names and checks bytes that come in parts as the same bytes joined', () => {
    const bytes = randomBytes(200_000)
    const parts = [bytes.subarray(0, 12), bytes.subarray(12, 70_000), bytes.subarray(70_000)]
    assert.equal(cidOfParts(parts).toString(), cidOf(bytes).toString())
    assert.equal(cidOfParts([]).toString(), cidOf(new Uint8Array(0)).toString())
    const good = cidChecker(cidOf(bytes))
    for (const part of parts) good.update(part)
    assert.equal(good.matches(), true)
    const bad = cidChecker(cidOf(bytes))
    bad.update(parts[0])
    bad.update(parts[2])
    assert.equal(bad.matches(), false)
  })

  it('matches bytes to their CID and only to it', () => {
    const bytes = randomBytes(100)
    const cid = cidOf(bytes)
    assert.equal(matchesCid(cid, bytes), true)
    const other = Uint8Array.from(bytes)
    other[0] ^= 1
    assert.equal(matchesCid(cid, other), false)
    const id = CID.createV1(raw.code, identity.digest(bytes))
    assert.equal(matchesCid(id, bytes), false)
  })

  it('parses chunk CIDs from bytes and text, and refuses others', () => {
    const cid = cidOf(Uint8Array.of(1, 2, 3))
    assert.equal(parseChunkCid(cid.bytes)?.toString(), cid.toString())
    assert.equal(parseChunkCid(cid.toString())?.toString(), cid.toString())
    assert.equal(parseChunkCid('not a cid'), undefined)
    assert.equal(parseChunkCid(Uint8Array.of(0xff, 0xff, 0xff)), undefined)
    assert.equal(parseChunkCid(CID.createV1(raw.code, identity.digest(Uint8Array.of(1))).bytes), undefined)
    assert.equal(parseChunkCid(cid.toV1().bytes.subarray(0, 10)), undefined)
  })
})
