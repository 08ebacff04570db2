import assert from 'node:assert/strict'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { TestNetwork, waitFor } from '../helpers/cli.js'
import { chunkPath, randomFile, sha256File, storedChunks } from '../helpers/files.js'
import { multiaddr } from '@multiformats/multiaddr'
import { serveLies } from '../helpers/liar.js'
import { startNode, stopAll } from '../helpers/nodes.js'
import type { Lies } from '../helpers/liar.js'
import type { TestNode as NodeHandle } from '../helpers/nodes.js'
import type { TestNode } from '../helpers/cli.js'

/** Overwrite a holder's copies of these chunks with zeroes of the same size (the files still exist). */
async function zero (node: TestNode, cids: string[]): Promise<number> {
  let n = 0
  for (const cid of cids) {
    const path = chunkPath(node.repo, cid)
    const size = await stat(path).then(s => s.size, () => -1)
    if (size < 0) continue
    await writeFile(path, Buffer.alloc(size))
    n++
  }
  return n
}

describe('audits: the owner counts the copies holders prove, not the ones they claim', () => {
  const net = new TestNetwork()
  let owner: TestNode
  let holders: TestNode[]
  let dir: string

  before(async () => {
    dir = await net.dir()
    ;[owner, ...holders] = await net.addNodes(4)
    await net.waitConnected()
  })

  after(async () => { await net.close() })

  /** A put of a random file with 2 replicas; the chunks new on each holder. */
  async function putNew (name: string, size: number): Promise<{ id: string, hash: string, file: string, on: Map<TestNode, string[]> }> {
    const before = new Map(await Promise.all(holders.map(async h => [h, new Set(await storedChunks(h.repo))] as const)))
    const file = join(dir, name)
    const hash = await randomFile(file, size)
    const put = await owner.json(['put', file, '--replicas', '2'])
    const on = new Map<TestNode, string[]>()
    for (const h of holders) on.set(h, (await storedChunks(h.repo)).filter(c => before.get(h)?.has(c) !== true))
    return { id: put.id, hash, file, on }
  }

  it('every copy zeroed on disk: verify says 0 of 2 and exits 3, where the holders still claim them', async () => {
    const { id, on } = await putNew('lost.bin', 1_500_000)
    const ok = await owner.run(['verify', id, '--json'])
    assert.equal(ok.code, 0, ok.stderr)
    const [fine] = JSON.parse(ok.stdout)
    assert.deepEqual(fine.replicas, { desired: 2, actual: 2 })
    // every copy was just audited: proven a moment ago
    assert.ok(Date.now() - Date.parse(fine.proven) < 60_000, `proven ${fine.proven}`)
    const human = await owner.run(['verify', id])
    assert.match(human.stdout, new RegExp(`^${id} 2/2, every copy proven since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`, 'm'))
    let zeroed = 0
    for (const [h, cids] of on) zeroed += await zero(h, cids)
    assert.ok(zeroed >= 2, `zeroed ${zeroed} copies`)
    const bad = await owner.run(['verify', id, '--json'])
    assert.equal(bad.code, 3, bad.stderr)
    const [result] = JSON.parse(bad.stdout)
    assert.deepEqual(result.replicas, { desired: 2, actual: 0 })
    assert.equal(result.proven, null)
    assert.match(bad.stderr, /below the desired replica count/)
    // and the listing says so too
    const list = await owner.json(['ls'])
    assert.equal(list.find((s: any) => s.id === id)?.replicas.actual, 0)
  })

  it('one holder\'s copies zeroed: verify replaces them on the third peer and that holder drops its bad copies', async () => {
    const { id, hash, file, on } = await putNew('half.bin', 1_500_000)
    const victim = holders.find(h => (on.get(h) ?? []).length > 0) as TestNode
    const spoiled = on.get(victim) ?? []
    assert.ok(await zero(victim, spoiled) > 0)
    const result = await owner.run(['verify', id, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const [v] = JSON.parse(result.stdout)
    assert.deepEqual(v.replicas, { desired: 2, actual: 2 })
    assert.ok(v.repaired >= 1, `repaired ${v.repaired}`)
    // the victim is told to drop what failed (through the delete queue)
    await waitFor(async () => {
      const held = new Set(await storedChunks(victim.repo))
      return spoiled.every(c => !held.has(c))
    }, 20_000, 'the holder whose copies failed their audit drops them')
    const out = join(dir, 'half.out')
    await owner.json(['get', `${id}:half.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
    void file
  })

  it('a bad copy that a get meets is audited and replaced, without a verify, and its holder drops it', async () => {
    // about 20 chunks: each is asked of its two holders in turn, starting at a
    // different one, so the get meets some of the victim's copies first
    const { id, hash, on } = await putNew('met.bin', 40 * 1024 * 1024)
    const victim = [...on.entries()].sort((a, b) => b[1].length - a[1].length)[0][0]
    const spoiled = on.get(victim) ?? []
    assert.ok(await zero(victim, spoiled) >= 5)
    // the get fails over to the good copies
    const out = join(dir, 'met.out')
    await owner.json(['get', `${id}:met.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
    // and what it met is dealt with (the repair pass runs only every 5 minutes):
    // audited, failed, dropped by the victim, and copied to the other peers
    const others = holders.filter(h => h !== victim)
    let dropped: string[] = []
    await waitFor(async () => {
      const held = new Set(await storedChunks(victim.repo))
      dropped = spoiled.filter(c => !held.has(c))
      if (dropped.length === 0) return false
      const copies = await Promise.all(others.map(async h => new Set(await storedChunks(h.repo))))
      return dropped.every(c => copies.filter(s => s.has(c)).length === 2)
    }, 20_000, 'the bad copies the get met to be dropped by their holder and made again on the other two')
    // the copies the get did not meet are still there, and still bad: verify finds them
    const check = await owner.run(['verify', id, '--json'])
    assert.equal(check.code, 0, check.stderr)
    assert.deepEqual(JSON.parse(check.stdout)[0].replicas, { desired: 2, actual: 2 })
  })
})

describe('audits on a schedule: a holder that keeps the names but not the bytes is caught within one audit interval', () => {
  const AUDIT_MS = 3000
  const REPAIR_MS = 1000
  const net = new TestNetwork()
  let owner: TestNode
  let holders: TestNode[]
  let dir: string

  before(async () => {
    dir = await net.dir()
    owner = await net.addNode({ config: { replication: { auditIntervalMs: AUDIT_MS, repairIntervalMs: REPAIR_MS } } })
    holders = await Promise.all([0, 1, 2].map(async () => net.addNode()))
    await net.waitConnected()
  })

  after(async () => { await net.close() })

  it('ls says when the copies were last proven; zeroed copies fail their next audit by themselves, are dropped and made again', async () => {
    const file = join(dir, 'sched.bin')
    const hash = await randomFile(file, 6 * 1024 * 1024)
    const put = await owner.json(['put', file, '--replicas', '2'])
    const listed = (await owner.json(['ls'])).find((s: any) => s.id === put.id)
    assert.deepEqual(listed.replicas, { desired: 2, actual: 2 })
    assert.ok(Math.abs(Date.now() - Date.parse(listed.proven)) < 30_000, `proven ${listed.proven} at the put`)
    // the scheduled audits prove the copies again: the time moves on
    await waitFor(async () => {
      const s = (await owner.json(['ls'])).find((x: any) => x.id === put.id)
      return Date.parse(s.proven) > Date.parse(listed.proven)
    }, 20_000, 'ls to show a newer proof after the next audits')
    // a liar: every copy on one holder zeroed, the files and their names kept
    const counts = await Promise.all(holders.map(async h => (await storedChunks(h.repo)).length))
    const liar = holders[counts.indexOf(Math.max(...counts))]
    const spoiled = await storedChunks(liar.repo)
    const zeroedAt = Date.now()
    assert.ok(await zero(liar, spoiled) > 0)
    await waitFor(async () => {
      const held = new Set(await storedChunks(liar.repo))
      return spoiled.every(c => !held.has(c))
    }, 30_000, 'the lying holder to be caught and told to drop its copies')
    const caught = Date.now() - zeroedAt
    assert.ok(caught <= AUDIT_MS + 4 * REPAIR_MS + 5000, `caught after ${caught} ms (audit interval ${AUDIT_MS} ms)`)
    // and the snapshot is whole again, from the other peers
    await waitFor(async () => (await owner.json(['ls'])).find((x: any) => x.id === put.id).replicas.actual === 2, 20_000, 'the snapshot back at 2 proven copies')
    const out = join(dir, 'sched.out')
    await owner.json(['get', `${put.id as string}:sched.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
  })
})

describe('a holder that lies (a real node of the chunk protocol that keeps nothing and says it has everything)', () => {
  const net = new TestNetwork()
  const others: NodeHandle[] = []
  let owner: TestNode
  let honest: TestNode[]
  let liar: NodeHandle
  let lies: Lies
  let dir: string

  before(async () => {
    dir = await net.dir()
    ;[owner, ...honest] = await net.addNodes(3)
    await net.waitConnected()
    liar = await startNode()
    others.push(liar)
    lies = await serveLies(liar.libp2p)
    await liar.libp2p.dial(multiaddr(owner.addrs[0]), { signal: AbortSignal.timeout(10_000) })
    await waitFor(async () => (await owner.json(['peers'])).length >= 3, 20_000, 'the owner to see the liar')
  })

  after(async () => {
    await stopAll(others)
    await net.close()
  })

  it('its copies fail their audits: verify counts and repairs only what the honest holders hold, and the liar is told to drop its copies', async () => {
    const file = join(dir, 'lied.bin')
    const hash = await randomFile(file, 16 * 1024 * 1024)
    const put = await owner.json(['put', file, '--replicas', '2'])
    assert.ok(lies.puts > 0, 'the liar took some chunks')
    // at the put the liar seemed to take them: only an audit tells
    const result = await owner.run(['verify', put.id, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const [v] = JSON.parse(result.stdout)
    assert.ok(lies.audits > 0, 'the liar was audited')
    assert.ok(v.repaired >= 1, `repaired ${v.repaired as number}`)
    assert.deepEqual(v.replicas, { desired: 2, actual: 2 })
    // what is counted is really held: every chunk of the put is on both honest holders
    const [a, b] = await Promise.all(honest.map(async h => new Set(await storedChunks(h.repo))))
    const fresh = [...a].filter(c => b.has(c))
    assert.ok(fresh.length >= 5, `${fresh.length} chunks on both honest holders (16 MiB in chunks of about 2 MiB, and the listings)`)
    await waitFor(() => lies.deletes > 0, 20_000, 'the liar to be told to drop what failed')
    // a second verify finds nothing more to repair: the liar is off the record
    const again = JSON.parse((await owner.run(['verify', put.id, '--json'])).stdout)[0]
    assert.equal(again.repaired, 0)
    assert.deepEqual(again.replicas, { desired: 2, actual: 2 })
    const out = join(dir, 'lied.out')
    await owner.json(['get', `${put.id as string}:lied.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
  })
})
