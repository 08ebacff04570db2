import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { spawn } from 'node:child_process'
import { ApiClient } from '../../src/api/client.js'
import { NODE_ARGS, TestNetwork, waitFor, sleep } from '../helpers/cli.js'
import { randomFile, sha256File, storedChunks } from '../helpers/files.js'
import type { TestNode } from '../helpers/cli.js'
import type { ChildProcess } from 'node:child_process'

const MiB = 1024 * 1024

/** Copies of each chunk over the stores of these nodes. */
async function copies (nodes: TestNode[]): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const node of nodes) {
    for (const cid of await storedChunks(node.repo)) out.set(cid, (out.get(cid) ?? 0) + 1)
  }
  return out
}

async function used (node: TestNode): Promise<number> {
  return (await node.json(['status'])).storage.used
}

describe('self-healing across five nodes', () => {
  const net = new TestNetwork()
  let owner: TestNode
  let others: TestNode[]
  let dir: string
  // repair runs only when asked (verify), so what the tests see is what verify did
  const config = { replication: { repairIntervalMs: 3_600_000, graceMs: 0 } }

  before(async () => {
    dir = await net.dir()
    ;[owner, ...others] = await net.addNodes(5, { config })
    await net.waitConnected()
  })

  after(async () => { await net.close() })

  it('verify brings every chunk back to the desired count after kill -9 of a holder', async () => {
    const file = join(dir, 'heal.bin')
    const hash = await randomFile(file, 6 * MiB)
    const put = await owner.json(['put', file, '--replicas', '2'])
    assert.deepEqual(put.replicas, { desired: 2, actual: 2 })
    const before = await copies(others)
    // kill the holder with the most chunks
    const counts = await Promise.all(others.map(async n => (await storedChunks(n.repo)).length))
    const dead = others[counts.indexOf(Math.max(...counts))]
    await dead.kill()
    const living = others.filter(n => n !== dead)

    const result = await owner.run(['verify', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    const entry = report.find((r: any) => r.id === put.id)
    assert.deepEqual(entry.replicas, { desired: 2, actual: 2 })
    assert.ok(entry.repaired > 0)
    // on the living peers every chunk of the backup now has 2 copies
    const after = await copies(living)
    for (const cid of before.keys()) assert.ok((after.get(cid) ?? 0) >= 2, `${cid} has ${after.get(cid) ?? 0} living copies`)

    const out = join(dir, 'heal.out')
    await owner.json(['get', `${put.id}:heal.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
    const ls = await owner.json(['ls'])
    assert.deepEqual(ls.find((e: any) => e.id === put.id).replicas, { desired: 2, actual: 2 })
    // its progress, through the API: the bytes of the chunks checked, of all of them
    const events: any[] = []
    const again = await (await ApiClient.forRepo(owner.repo)).call('verify', {}, { onProgress: event => { events.push(event) } })
    assert.deepEqual(again.map((r: any) => [r.id, r.replicas, r.repaired]), [[put.id, { desired: 2, actual: 2 }, 0]])
    const progress = events.filter(e => e.type === 'backpack:verify:progress')
    assert.ok(progress.length >= 2, JSON.stringify(events))
    const total = progress[0].total
    assert.equal(progress[0].done, 0)
    assert.ok(total >= 6 * MiB && total < 6 * MiB + 64 * 1024, `total ${total}`)
    for (const [i, e] of progress.slice(1).entries()) assert.ok(e.done >= progress[i].done && e.total === total, 'progress only grows')
    assert.deepEqual(progress.at(-1), { type: 'backpack:verify:progress', done: total, total })
    // bring the dead node back for the next tests
    await dead.start({ bootstrap: [owner.addrs[0]], config })
    await net.waitConnected()
  })

  it('reclaim 0 empties a holder and keeps every backup at its desired count', async () => {
    const file = join(dir, 'reclaim.bin')
    const hash = await randomFile(file, 4 * MiB)
    await owner.json(['put', file, '--replicas', '3'])
    const usage = await Promise.all(others.map(used))
    const holder = others[usage.indexOf(Math.max(...usage))]
    assert.ok(await used(holder) > 0)

    // through the API, to see its progress: the bytes freed of those to free
    const before = await used(holder)
    const events: any[] = []
    const client = await ApiClient.forRepo(holder.repo)
    const reclaimed = await client.call('reclaim', { limit: 0 }, { onProgress: event => { events.push(event) } })
    assert.equal(reclaimed.used, 0)
    assert.deepEqual(events[0], { type: 'backpack:reclaim:progress', done: 0, total: before })
    const last = events[events.length - 1]
    assert.deepEqual(last, { type: 'backpack:reclaim:progress', done: before, total: before })
    for (const [i, e] of events.slice(1).entries()) assert.ok(e.done >= (events[i].done ?? 0), 'progress only grows')
    // the CLI: nothing left to hand on
    const result = await holder.run(['reclaim', '0'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /0 chunks handed to other peers/)
    assert.equal(await used(holder), 0)
    assert.equal((await storedChunks(holder.repo)).length, 0)

    // the owner's placement record follows (moved notices), and no backup is below its count
    await waitFor(async () => {
      const ls = await owner.json(['ls'])
      return ls.every((e: any) => e.replicas.actual >= e.replicas.desired)
    }, 15_000, 'backups below their desired count after reclaim')
    const check = await owner.run(['verify', '--json'])
    assert.equal(check.code, 0, check.stderr)
    for (const r of JSON.parse(check.stdout)) {
      assert.ok(r.replicas.actual >= r.replicas.desired, `${r.id} ${r.replicas.actual}/${r.replicas.desired}`)
      assert.equal(r.repaired, 0, `${r.id} needed repair: reclaim lowered its count`)
    }
    const out = join(dir, 'reclaim.out')
    await owner.json(['get', 'reclaim.bin', '-o', out])
    assert.equal(await sha256File(out), hash)
    // the limit stays lowered after a restart
    const status = await holder.json(['status'])
    assert.equal(status.storage.limit, 0)
  })

  it('rm frees the space on every holder, and on a holder that was stopped once it is back', async () => {
    // start from clean stores: remove every earlier backup
    for (const e of await owner.json(['ls'])) {
      const r = await owner.run(['rm', e.id])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `removed snapshot ${e.id}\n`)
    }
    assert.deepEqual(await owner.json(['ls']), [])
    let usage: number[] = []
    await waitFor(async () => {
      usage = await Promise.all(others.map(used))
      return usage.every(u => u === 0)
    }, 15_000, 'space not freed after rm').catch(err => { throw new Error(`${err.message}: bytes used ${usage.join(' / ')}`) })

    const file = join(dir, 'rm.bin')
    await randomFile(file, 3 * MiB)
    const put = await owner.json(['put', file, '--replicas', '3'])
    const holders = []
    for (const n of others) if (await used(n) > 0) holders.push(n)
    assert.ok(holders.length >= 3)
    const offline = holders[0]
    assert.equal(await offline.stop(), 0)

    // by a prefix of the id
    const rm = await owner.run(['rm', put.id.slice(0, 12)])
    assert.equal(rm.code, 0, rm.stderr)
    assert.equal(rm.stdout, `removed snapshot ${put.id}\n`)
    assert.match(rm.stderr, /offline/)
    for (const n of holders.slice(1)) {
      assert.equal(await used(n), 0)
      assert.equal((await storedChunks(n.repo)).length, 0)
    }
    assert.ok((await storedChunks(offline.repo)).length > 0, 'the stopped holder still has the chunks')
    const ls = await owner.json(['ls'])
    assert.equal(ls.find((e: any) => e.id === put.id), undefined)

    await offline.start({ bootstrap: [owner.addrs[0]], config })
    const started = Date.now()
    await waitFor(async () => (await storedChunks(offline.repo)).length === 0, 20_000, 'the returning holder kept the chunks')
    assert.equal(await used(offline), 0)
    assert.ok(Date.now() - started < 20_000)
  })

  it('rm keeps chunks that another snapshot of the same owner still uses', async () => {
    const file = join(dir, 'shared.bin')
    const hash = await randomFile(file, 2 * MiB)
    const a = await owner.json(['put', file, '--replicas', '2'])
    const b = await owner.json(['put', file, '--replicas', '2', '--name', 'shared-copy.bin'])
    assert.notEqual(a.id, b.id)
    const r = await owner.run(['rm', a.id])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual((await owner.json(['ls'])).map((e: any) => e.id), [b.id])
    const out = join(dir, 'shared.out')
    await owner.json(['get', `${b.id}:shared-copy.bin`, '-o', out])
    assert.equal(await sha256File(out), hash)
  })
})


describe('leases', () => {
  const net = new TestNetwork()
  after(async () => { await net.close() })

  it('collects the chunks of an owner gone silent', async () => {
    const config = { replication: { leaseMs: 4_000, leaseCheckIntervalMs: 500, repairIntervalMs: 1_000 } }
    const [owner, ...holders] = await net.addNodes(3, { config })
    await net.waitConnected()
    const dir = await net.dir()
    const file = join(dir, 'lease.bin')
    await randomFile(file, 2 * MiB)
    await owner.json(['put', file, '--replicas', '2'])
    // while the owner runs, its repair pass renews the leases
    await sleep(6_000)
    for (const h of holders) assert.ok((await storedChunks(h.repo)).length > 0, 'a lease expired while the owner was renewing it')
    await owner.kill()
    await waitFor(async () => {
      for (const h of holders) if ((await storedChunks(h.repo)).length > 0) return false
      return true
    }, 20_000, 'chunks of a silent owner were not collected')
    for (const h of holders) assert.equal((await h.json(['status'])).storage.used, 0)
  })
})

/** Chunks a put has on their way at once (transfer.chunksInFlight), with one replica */
const CHUNKS_IN_FLIGHT = 8

describe('interrupted puts', () => {
  const net = new TestNetwork()
  let owner: TestNode
  let holders: TestNode[]
  let file: string

  before(async () => {
    ;[owner, ...holders] = await net.addNodes(3)
    await net.waitConnected()
    file = join(await net.dir(), 'interrupted.bin')
    // large enough that the put is still running when it is interrupted
    await randomFile(file, 160 * MiB)
  })

  after(async () => { await net.close() })

  /** Start a put and wait until the holders have some of its chunks. */
  async function putUntilStored (): Promise<ChildProcess> {
    const cli = spawn(process.execPath, [...NODE_ARGS, 'put', file, '--replicas', '1', '--repo', owner.repo], { stdio: 'ignore' })
    await waitFor(async () => (await Promise.all(holders.map(async h => (await storedChunks(h.repo)).length))).reduce((a, b) => a + b, 0) > 2 * CHUNKS_IN_FLIGHT, 30_000, 'the put stored nothing')
    assert.equal(cli.exitCode, null, 'the put ended before it could be interrupted')
    return cli
  }

  async function holdersEmpty (message: string): Promise<void> {
    await waitFor(async () => {
      for (const h of holders) if ((await storedChunks(h.repo)).length > 0) return false
      return true
    }, 20_000, message)
    for (const h of holders) assert.equal(await used(h), 0)
  }

  it('a put cancelled from the CLI (Ctrl-C) leaves nothing on the holders', async () => {
    const cli = await putUntilStored()
    cli.kill('SIGINT')
    await new Promise(resolve => cli.once('exit', resolve))
    await holdersEmpty('the chunks of a cancelled put stayed on the holders')
    assert.deepEqual(await owner.json(['ls']), [])
  })

  it('a put that dies with the node (kill -9) leaves at most its copies in flight on the holders once the node is back', async () => {
    const cli = await putUntilStored()
    await owner.kill()
    await new Promise(resolve => cli.once('exit', resolve))
    const left = (await Promise.all(holders.map(async h => (await storedChunks(h.repo)).length))).reduce((a, b) => a + b, 0)
    assert.ok(left > CHUNKS_IN_FLIGHT, `only ${left} chunks stored when the node died`)
    await owner.start({ bootstrap: [holders[0].addrs[0]] })
    // what the journal knew of is dropped; a copy whose record had not been
    // written when the node died stays until its lease expires
    let remaining = left
    await waitFor(async () => {
      remaining = (await Promise.all(holders.map(async h => (await storedChunks(h.repo)).length))).reduce((a, b) => a + b, 0)
      return remaining <= CHUNKS_IN_FLIGHT
    }, 20_000, 'the chunks of a put killed with its node stayed on the holders').catch(err => {
      throw new Error(`${err.message}: ${remaining} of ${left}`)
    })
    assert.deepEqual(await owner.json(['ls']), [])
  })
})
