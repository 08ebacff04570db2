import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataCipher } from '../../src/chunking/cipher.js'
import { sealBlob } from '../../src/backup/blobs.js'
import { BlobWorkers } from '../../src/workers/index.js'
import type { SealedPiece } from '../../src/workers/index.js'

describe('BlobWorkers: sealing and restoring small files off the main thread', () => {
  const secret = randomBytes(32)
  const cipher = new DataCipher(secret)
  let workers: BlobWorkers
  let dir: string

  before(async () => {
    workers = new BlobWorkers({ dataSecret: secret }, { threads: 2 })
    dir = await mkdtemp(join(tmpdir(), 'backpack-workers-'))
  })
  after(async () => {
    await workers.stop()
    await rm(dir, { recursive: true, force: true })
  })

  function piece (plain: Uint8Array): SealedPiece {
    const blob = sealBlob(cipher, cipher.blobId(plain), plain, 'auto')
    return { sealed: new Uint8Array(Buffer.concat(blob.parts)), compressed: blob.compressed, plainLength: blob.plainLength }
  }
  const text = (n: number): Buffer => Buffer.from('the same words again and again '.repeat(Math.ceil(n / 31)).slice(0, n))

  it('writes a file of several blobs (compressed and not) with its mode and time, under its name only', async () => {
    const parts = [text(50_000), randomBytes(3000), Buffer.alloc(0), text(10)]
    const pieces = parts.map(piece)
    assert.ok(pieces[0].compressed, 'text compresses')
    const path = join(dir, 'a.txt')
    const time = 1_600_000_000.25
    const bytes = await workers.restoreFile({ tmp: join(dir, '.a.txt.tmp'), path, mode: 0o640, exact: false, time, existing: 'none', pieces })
    assert.equal(bytes, 53_010)
    assert.ok((await readFile(path)).equals(Buffer.concat(parts)))
    const st = await stat(path)
    assert.equal(st.mode & 0o777, 0o640)
    assert.equal(st.mtimeMs, time * 1000)
    assert.deepEqual((await readdir(dir)).sort(), ['a.txt'])
  })

  it('runs many files at once, each to its own result', async () => {
    const sub = join(dir, 'many')
    await mkdir(sub)
    const plains = Array.from({ length: 100 }, (_, i) => text(100 + i * 37))
    const sizes = await Promise.all(plains.map(async (plain, i) => workers.restoreFile({ tmp: join(sub, `.f${i}.tmp`), path: join(sub, `f${i}`), mode: 0o600, exact: false, time: 1e9, existing: 'none', pieces: [piece(plain)] })))
    assert.deepEqual(sizes, plains.map(p => p.byteLength))
    for (const [i, plain] of plains.entries()) assert.ok((await readFile(join(sub, `f${i}`))).equals(plain))
  })

  it('refuses to replace what exists unless told to, and leaves no temporary file', async () => {
    const path = join(dir, 'taken')
    await writeFile(path, 'mine')
    const task = { tmp: join(dir, '.taken.tmp'), path, mode: 0o644, exact: false, time: 1e9 }
    await assert.rejects(workers.restoreFile({ ...task, existing: 'refuse', pieces: [piece(text(10))] }), { name: 'FileExistsError' })
    assert.equal(await readFile(path, 'utf8'), 'mine')
    assert.equal((await readdir(dir)).includes('.taken.tmp'), false)
    await workers.restoreFile({ ...task, existing: 'replace', pieces: [piece(text(10))] })
    assert.ok((await readFile(path)).equals(text(10)))
  })

  it('a blob that does not open fails its file alone: no file, no temporary, the others written', async () => {
    const bad = piece(randomBytes(500))
    bad.sealed[100] ^= 1
    const results = await Promise.allSettled([
      workers.restoreFile({ tmp: join(dir, '.bad.tmp'), path: join(dir, 'bad'), mode: 0o644, exact: false, time: 1e9, existing: 'none', pieces: [bad] }),
      workers.restoreFile({ tmp: join(dir, '.good.tmp'), path: join(dir, 'good'), mode: 0o644, exact: false, time: 1e9, existing: 'none', pieces: [piece(text(20))] })
    ])
    assert.equal(results[0].status, 'rejected')
    assert.equal((results[0] as PromiseRejectedResult).reason.name, 'DecryptError')
    assert.equal(results[1].status, 'fulfilled')
    const names = await readdir(dir)
    assert.equal(names.includes('bad') || names.includes('.bad.tmp'), false)
    assert.ok(names.includes('good'))
  })

  it('seals a small file as a put would: read whole, named by its keyed id, compressed where smaller, opening to its bytes', async () => {
    const path = join(dir, 'to-seal.txt')
    const plain = text(20_000)
    await writeFile(path, plain)
    const { read, blob } = await workers.sealFile({ path, compression: 'auto' }, plain.byteLength)
    assert.equal(read, plain.byteLength)
    assert.ok(blob != null)
    assert.ok(Buffer.from(blob.id).equals(cipher.blobId(plain)), 'the id the main thread would give it')
    assert.equal(blob.compressed, true)
    assert.ok(blob.sealed.byteLength < plain.byteLength / 2)
    const back = await workers.restoreFile({ tmp: join(dir, '.back.tmp'), path: join(dir, 'back'), mode: 0o644, exact: false, time: 1e9, existing: 'none', pieces: [{ sealed: blob.sealed, compressed: blob.compressed, plainLength: blob.plainLength }] })
    assert.equal(back, plain.byteLength)
    assert.ok((await readFile(join(dir, 'back'))).equals(plain))
    const off = await workers.sealFile({ path, compression: 'off' }, plain.byteLength)
    assert.equal(off.blob?.compressed, false)
    await writeFile(join(dir, 'empty'), '')
    assert.deepEqual(await workers.sealFile({ path: join(dir, 'empty'), compression: 'auto' }, 0), { read: 0 })
    await assert.rejects(workers.sealFile({ path: join(dir, 'gone'), compression: 'auto' }, 10), { code: 'ENOENT' })
  })

  it('a missing directory is a system error with its code', async () => {
    await assert.rejects(workers.restoreFile({ tmp: join(dir, 'nope', '.x.tmp'), path: join(dir, 'nope', 'x'), mode: 0o644, exact: false, time: 1e9, existing: 'none', pieces: [] }), { code: 'ENOENT' })
  })
})
