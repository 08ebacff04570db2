import { describe, it, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile, mkdir, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryDatastore } from 'datastore-core'
import { Uint8ArrayList } from 'uint8arraylist'
import { cidOf } from '../../src/chunking/index.js'
import { ChunkStore, UNCLAIMED_GRACE_MS } from '../../src/store/index.js'
import type { ChunkStoreInit } from '../../src/store/index.js'
import { tempDir } from '../helpers/tmp.js'

const ALICE = '12D3KooWAliceAliceAliceAliceAliceAliceAliceAlice'
const BOB = '12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBob'

/** Every file below dir, relative paths. */
async function filesUnder (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath ?? (entry as any).path, entry.name).slice(dir.length + 1))
  }
  return out.sort()
}

describe('ChunkStore', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let datastore: MemoryDatastore

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir())
    datastore = new MemoryDatastore()
  })
  afterEach(async () => { await cleanup() })

  async function open (init: Partial<ChunkStoreInit> = {}): Promise<ChunkStore> {
    const store = new ChunkStore({ datastore }, { dir, limit: 1024 * 1024, fsync: false, peerShare: 1, ...init })
    await store.start()
    return store
  }

  it('gives back the bytes it was given, in a sharded content-addressed file', async () => {
    const store = await open()
    const bytes = randomBytes(1000)
    const cid = cidOf(bytes)
    assert.equal(await store.has(cid), false)
    await store.put(cid, bytes, ALICE)
    assert.equal(await store.has(cid), true)
    assert.ok(Buffer.from(await store.get(cid)).equals(bytes))
    const text = cid.toString()
    assert.ok((await readFile(join(dir, text.slice(-2), text))).equals(bytes))
    assert.equal(store.used, 1000)
    assert.equal(await store.size(cid), 1000)
    assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner), [ALICE])
  })

  it('reads a held chunk in pieces no larger than asked, as the file was when opened', async () => {
    const store = await open()
    const bytes = randomBytes(250_000)
    const cid = cidOf(bytes)
    await store.put(cid, bytes, ALICE)
    const reader = await store.reader(cid, 64 * 1024)
    assert.equal(reader.size, bytes.byteLength)
    const pieces: Uint8Array[] = []
    for await (const piece of reader.pieces()) pieces.push(piece)
    await reader.close()
    assert.ok(pieces.every(p => p.byteLength <= 64 * 1024), pieces.map(p => p.byteLength).join(' '))
    assert.ok(Buffer.concat(pieces).equals(bytes))
    // a copy cut short while it is read fails the read instead of sending fewer bytes
    const cut = await store.reader(cid, 64 * 1024)
    const text = cid.toString()
    await writeFile(join(dir, text.slice(-2), text), bytes.subarray(0, 100_000))
    await assert.rejects(async () => { for await (const piece of cut.pieces()) assert.ok(piece) }, /ended at/)
    await cut.close()
    await assert.rejects(store.reader(cidOf(randomBytes(10)), 1024), { name: 'NotFoundError' })
  })

  it('stores a chunk written in pieces as they arrive, holding its room meanwhile', async () => {
    const store = await open({ limit: 10_000 })
    const bytes = randomBytes(3000)
    const cid = cidOf(bytes)
    const writer = await store.writer(cid, bytes.byteLength, ALICE)
    assert.equal(store.free, 7000, 'its room is held from the start')
    writer.write(bytes.subarray(0, 1000))
    writer.write(new Uint8ArrayList(bytes.subarray(1000, 1500), bytes.subarray(1500, 3000)))
    assert.equal((await readdir(join(dir, 'tmp'))).length, 1, 'written to a temporary file')
    assert.equal(await store.has(cid), false, 'not under its name before the commit')
    await writer.commit(ALICE)
    assert.ok(Buffer.from(await store.get(cid)).equals(bytes))
    assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner), [ALICE])
    assert.equal(store.used, 3000)
    assert.equal(store.free, 7000)
    assert.deepEqual(await readdir(join(dir, 'tmp')), [])
    await writer.abort()
    assert.equal(await store.has(cid), true, 'abort after commit does nothing')
  })

  it('keeps nothing of a chunk whose writer is aborted, and gives its room back', async () => {
    const store = await open({ limit: 10_000 })
    const bytes = randomBytes(3000)
    const cid = cidOf(bytes)
    const writer = await store.writer(cid, bytes.byteLength, ALICE)
    writer.write(bytes.subarray(0, 2000))
    await writer.abort()
    assert.equal(store.free, 10_000)
    assert.equal(store.used, 0)
    assert.equal(await store.has(cid), false)
    assert.deepEqual(await filesUnder(dir), [])
    await assert.rejects(writer.commit(ALICE))
    assert.deepEqual(await store.claims.owners(cid), [])
  })

  it('refuses at commit pieces that are too few, too many or wrong, and keeps nothing', async () => {
    const store = await open({ limit: 10_000 })
    const bytes = randomBytes(3000)
    const cid = cidOf(bytes)
    const wrong = Buffer.from(bytes)
    wrong[1234] ^= 1
    for (const pieces of [[bytes.subarray(0, 2999)], [bytes, Uint8Array.of(0)], [wrong]]) {
      const writer = await store.writer(cid, bytes.byteLength, ALICE)
      for (const piece of pieces) writer.write(piece)
      await assert.rejects(writer.commit(ALICE), { name: 'BadHashError' })
      assert.equal(await store.has(cid), false)
      assert.equal(store.free, 10_000)
      assert.deepEqual(await filesUnder(dir), [])
    }
    assert.deepEqual(await store.claims.owners(cid), [])
  })

  it('claims a chunk it already holds again without room for it (a full store)', async () => {
    const store = await open({ limit: 1000 })
    const bytes = randomBytes(1000)
    const cid = cidOf(bytes)
    await store.put(cid, bytes, ALICE)
    assert.equal(store.free, 0)
    await store.put(cid, bytes, BOB)
    assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner).sort(), [ALICE, BOB].sort())
    assert.equal(store.used, 1000)
    const other = randomBytes(10)
    await assert.rejects(store.writer(cidOf(other), other.byteLength, ALICE), { name: 'NoSpaceError' })
  })

  it('refuses bytes that do not match the CID with BadHashError and writes nothing', async () => {
    const store = await open()
    const cid = cidOf(randomBytes(100))
    await assert.rejects(store.put(cid, randomBytes(100), ALICE), { name: 'BadHashError' })
    assert.equal(await store.has(cid), false)
    assert.equal(store.used, 0)
    assert.deepEqual(await store.claims.owners(cid), [])
    assert.deepEqual(await filesUnder(dir), [])
  })

  it('refuses a chunk over the limit with NoSpaceError and writes nothing', async () => {
    const store = await open({ limit: 1500 })
    const first = randomBytes(1000)
    await store.put(cidOf(first), first, ALICE)
    const second = randomBytes(501)
    await assert.rejects(store.put(cidOf(second), second, ALICE), { name: 'NoSpaceError' })
    assert.equal(await store.has(cidOf(second)), false)
    assert.deepEqual(await store.claims.owners(cidOf(second)), [])
    assert.equal(store.used, 1000)
    assert.equal(store.free, 500)
    const exact = randomBytes(500)
    await store.put(cidOf(exact), exact, ALICE)
    assert.equal(store.used, 1500)
    assert.equal(store.free, 0)
    assert.equal((await filesUnder(dir)).length, 2)
  })

  it('refuses everything with a limit of 0', async () => {
    const store = await open({ limit: 0 })
    const bytes = randomBytes(1)
    await assert.rejects(store.put(cidOf(bytes), bytes, ALICE), { name: 'NoSpaceError' })
    assert.deepEqual(await filesUnder(dir), [])
  })

  it('never overfills under concurrent puts', async () => {
    const store = await open({ limit: 2500 })
    const chunks = Array.from({ length: 10 }, () => randomBytes(1000))
    const results = await Promise.allSettled(chunks.map(async b => store.put(cidOf(b), b, ALICE)))
    assert.equal(results.filter(r => r.status === 'fulfilled').length, 2)
    assert.ok(results.filter(r => r.status === 'rejected').every(r => (r as PromiseRejectedResult).reason.name === 'NoSpaceError'))
    assert.equal(store.used, 2000)
    assert.equal((await filesUnder(dir)).length, 2)
  })

  it('counts a chunk once when it is put many times at once', async () => {
    const store = await open({ limit: 10_000 })
    const bytes = randomBytes(1000)
    const cid = cidOf(bytes)
    await Promise.all(Array.from({ length: 8 }, async (_, i) => store.put(cid, bytes, i % 2 === 0 ? ALICE : BOB)))
    assert.equal(store.used, 1000)
    assert.equal(store.free, 9000)
    assert.deepEqual((await filesUnder(dir)).length, 1)
    assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner).sort(), [ALICE, BOB].sort())
  })

  it('scrub drops the copies corrupted on disk, with their claims, and keeps the intact ones', async () => {
    const store = await open()
    const good = randomBytes(1000)
    const bad = randomBytes(1000)
    const goodCid = cidOf(good)
    const badCid = cidOf(bad)
    await store.put(goodCid, good, ALICE)
    await store.put(badCid, bad, ALICE)
    await store.put(badCid, bad, BOB)
    const text = badCid.toString()
    await writeFile(join(dir, text.slice(-2), text), randomBytes(1000))
    // served as it is: the receiver checks it against the CID
    assert.equal((await store.get(badCid)).byteLength, 1000)
    assert.deepEqual(await store.scrub(), { checked: 2, dropped: 1, unclaimed: 0 })
    assert.equal(await store.has(badCid), false)
    assert.deepEqual(await store.claims.owners(badCid), [])
    await assert.rejects(store.get(badCid), { name: 'NotFoundError' })
    assert.ok(Buffer.from(await store.get(goodCid)).equals(good))
    assert.equal(store.used, 1000)
    assert.deepEqual(await store.scrub(), { checked: 1, dropped: 0, unclaimed: 0 })
  })

  it('scrub removes a copy no one has claimed for an hour (a crash between file and record), not a fresh one', async () => {
    const store = await open()
    const claimed = randomBytes(1000)
    await store.put(cidOf(claimed), claimed, ALICE)
    // left by crashes: one copy written long ago without its claim, one just now
    const old = randomBytes(1000)
    const fresh = randomBytes(1000)
    for (const bytes of [old, fresh]) {
      const text = cidOf(bytes).toString()
      await mkdir(join(dir, text.slice(-2)), { recursive: true })
      await writeFile(join(dir, text.slice(-2), text), bytes)
    }
    const longAgo = new Date(Date.now() - UNCLAIMED_GRACE_MS - 60_000)
    const oldText = cidOf(old).toString()
    await utimes(join(dir, oldText.slice(-2), oldText), longAgo, longAgo)
    await store.stop()
    const again = await open()
    assert.equal(again.used, 3000)
    assert.deepEqual(await again.scrub(), { checked: 2, dropped: 0, unclaimed: 1 })
    assert.equal(await again.has(cidOf(old)), false)
    assert.equal(await again.has(cidOf(fresh)), true)
    assert.equal(await again.has(cidOf(claimed)), true)
    assert.equal(again.used, 2000)
  })

  it('scrub reads no faster than it is allowed to', async () => {
    const store = await open({ limit: 10 * 1024 * 1024 })
    for (let i = 0; i < 4; i++) {
      const bytes = randomBytes(64 * 1024)
      await store.put(cidOf(bytes), bytes, ALICE)
    }
    const started = Date.now()
    // 256 KiB at 512 KiB/s: at least about half a second
    assert.deepEqual(await store.scrub({ bytesPerSecond: 512 * 1024 }), { checked: 4, dropped: 0, unclaimed: 0 })
    assert.ok(Date.now() - started >= 400, `took ${Date.now() - started} ms`)
  })

  it('repairs a copy corrupted on disk when the chunk is put again, instead of acknowledging garbage', async () => {
    const store = await open()
    const bytes = randomBytes(1000)
    const cid = cidOf(bytes)
    await store.put(cid, bytes, ALICE)
    const text = cid.toString()
    await writeFile(join(dir, text.slice(-2), text), randomBytes(1000))
    await store.put(cid, bytes, BOB)
    assert.ok(Buffer.from(await store.get(cid)).equals(bytes))
    assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner).sort(), [ALICE, BOB].sort())
    assert.equal(store.used, 1000)
    assert.deepEqual(await readdir(join(dir, 'tmp')), [])
  })

  it('fails get of an unknown chunk with NotFoundError', async () => {
    const store = await open()
    await assert.rejects(store.get(cidOf(randomBytes(10))), { name: 'NotFoundError' })
  })

  it('counts the bytes on disk at start after a restart, and keeps the owners', async () => {
    const first = await open()
    const a = randomBytes(700)
    const b = randomBytes(300)
    await first.put(cidOf(a), a, ALICE)
    await first.put(cidOf(b), b, BOB)
    await first.stop()
    const second = await open()
    assert.equal(second.used, 1000)
    assert.ok(Buffer.from(await second.get(cidOf(b))).equals(b))
    assert.deepEqual((await second.claims.owners(cidOf(a))).map(o => o.owner), [ALICE])
    const held = []
    for await (const h of second.claims.held()) held.push(`${h.cid}/${h.owner}`)
    assert.deepEqual(held.sort(), [`${cidOf(a)}/${ALICE}`, `${cidOf(b)}/${BOB}`].sort())
  })

  it('removes temp files a crash left behind, and leaves none after puts', async () => {
    await mkdir(join(dir, 'tmp'), { recursive: true })
    await writeFile(join(dir, 'tmp', 'partial-chunk'), randomBytes(50))
    const store = await open()
    assert.equal(store.used, 0)
    assert.deepEqual(await readdir(join(dir, 'tmp')), [])
    for (let i = 0; i < 5; i++) {
      const bytes = randomBytes(100)
      await store.put(cidOf(bytes), bytes, ALICE)
    }
    const tooBig = randomBytes(2 * 1024 * 1024)
    await assert.rejects(store.put(cidOf(tooBig), tooBig, ALICE), { name: 'NoSpaceError' })
    assert.deepEqual(await readdir(join(dir, 'tmp')), [])
    assert.equal((await filesUnder(dir)).length, 5)
  })

  it('keeps a chunk while another owner claims it and removes it with the last claim', async () => {
    const bytes = randomBytes(400)
    const cid = cidOf(bytes)
    const removed: string[] = []
    await mkdir(dir, { recursive: true })
    const s = new ChunkStore({ datastore }, { dir, limit: 1024 * 1024, fsync: false, onRemoved: c => removed.push(c.toString()) })
    await s.start()
    await s.put(cid, bytes, ALICE)
    await s.put(cid, bytes, BOB)
    assert.equal(s.used, 400)
    assert.equal(await s.release(cid, ALICE), true)
    assert.equal(await s.has(cid), true)
    assert.deepEqual((await s.claims.owners(cid)).map(o => o.owner), [BOB])
    assert.equal(await s.renew(cid, ALICE), false)
    assert.equal(await s.renew(cid, BOB), true)
    assert.equal(await s.release(cid, ALICE), false)
    assert.equal(await s.has(cid), true)
    assert.deepEqual(removed, [])
    assert.equal(await s.release(cid, BOB), true)
    assert.equal(await s.has(cid), false)
    assert.equal(s.used, 0)
    assert.deepEqual(removed, [cid.toString()])
    assert.deepEqual(await s.claims.owners(cid), [])
  })

  it('remove drops the file and every claim', async () => {
    const store = await open()
    const bytes = randomBytes(400)
    const cid = cidOf(bytes)
    await store.put(cid, bytes, ALICE)
    await store.put(cid, bytes, BOB)
    await store.remove(cid)
    assert.equal(await store.has(cid), false)
    assert.deepEqual(await store.claims.owners(cid), [])
    assert.equal(store.used, 0)
  })

  it('renews a lease with a newer time', async () => {
    const store = await open()
    const bytes = randomBytes(10)
    const cid = cidOf(bytes)
    await store.put(cid, bytes, ALICE)
    const before = (await store.claims.owners(cid))[0].renewed
    await new Promise(resolve => setTimeout(resolve, 5))
    assert.equal(await store.renew(cid, ALICE), true)
    assert.ok((await store.claims.owners(cid))[0].renewed > before)
  })
})

describe('ChunkStore quotas', () => {
  let dir: string
  let cleanup: () => Promise<void>
  beforeEach(async () => { ({ dir, cleanup } = await tempDir()) })
  afterEach(async () => { await cleanup() })

  it('lets each owner fill its share of the limit, more by what it holds for this node, never past the limit', async () => {
    const credit = new Map([[BOB, 300]])
    const store = new ChunkStore({ datastore: new MemoryDatastore() }, { dir, limit: 1000, fsync: false, peerShare: 0.4, creditOf: owner => credit.get(owner) ?? 0 })
    await store.start()
    assert.equal(store.quotaOf(ALICE), 400)
    assert.equal(store.quotaOf(BOB), 700)
    const a = randomBytes(400)
    await store.put(cidOf(a), a, ALICE)
    const more = randomBytes(1)
    await assert.rejects(store.put(cidOf(more), more, ALICE), { name: 'NoSpaceError', message: /holds 400 of the 400/ })
    assert.equal(store.freeFor(ALICE), 0)
    assert.equal(store.freeFor(BOB), 600, 'free space, within the quota of 700')
    const b = randomBytes(600)
    await store.put(cidOf(b), b, BOB)
    assert.equal(store.freeFor(BOB), 0)
    // credit past the limit: still the limit
    credit.set(BOB, 10_000)
    assert.equal(store.quotaOf(BOB), 1000)
    // releasing gives the share back, and a restart counts what is held again
    await store.release(cidOf(a), ALICE)
    assert.equal(store.claims.usedBy(ALICE), 0)
    const again = new ChunkStore({ datastore: (store as any).components.datastore }, { dir, limit: 1000, fsync: false, peerShare: 0.4 })
    await again.start()
    assert.equal(again.claims.usedBy(BOB), 600)
    assert.deepEqual(again.claims.users(), [{ peer: BOB, bytes: 600 }])
  })

  it('reserves a chunk being received against the sender, and counts a handed-on chunk against its owner', async () => {
    const store = new ChunkStore({ datastore: new MemoryDatastore() }, { dir, limit: 1000, fsync: false, peerShare: 0.5 })
    await store.start()
    const first = randomBytes(300)
    const writer = await store.writer(cidOf(first), first.byteLength, ALICE)
    assert.equal(store.freeFor(ALICE), 200, 'reserved while it arrives')
    const second = randomBytes(300)
    await assert.rejects(store.writer(cidOf(second), second.byteLength, ALICE), { name: 'NoSpaceError' })
    await writer.abort()
    assert.equal(store.freeFor(ALICE), 500, 'an aborted chunk gives its reservation back')
    // ALICE hands on BOB's chunk: BOB's share pays for it once stored
    const bobs = randomBytes(450)
    const handed = await store.writer(cidOf(bobs), bobs.byteLength, ALICE)
    handed.write(bobs)
    await handed.commit(BOB)
    assert.equal(store.claims.usedBy(BOB), 450)
    assert.equal(store.claims.usedBy(ALICE), 0)
    const over = randomBytes(100)
    const refused = await store.writer(cidOf(over), over.byteLength, ALICE)
    refused.write(over)
    await assert.rejects(refused.commit(BOB), { name: 'NoSpaceError' })
    assert.equal(await store.has(cidOf(over)), false)
  })
})
