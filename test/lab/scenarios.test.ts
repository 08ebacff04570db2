// Faults on a real network (issue 14): `backpack start` nodes in six netlab
// hosts (network namespaces on one bridge, ../shared/netlab), joined through
// h1. A partition {h1,h2,h3} | {h4,h5,h6} during puts from both sides, then
// healed; a holder's host cut off in the middle of a put; the owner's daemon
// killed in the middle of a put. Each ends with bit-exact restores, replica
// counts that match the copies really held (every copy re-hashed on disk),
// and nothing left on the holders beyond its lease.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { matchesCid } from '../../src/chunking/index.js'
import { NODE_ARGS, TestNetwork, TestNode, waitAllConnected, waitFor } from '../helpers/cli.js'
import { chunkPath, randomFile, sha256File, storedChunks } from '../helpers/files.js'
import { hostAddr, inHost, labSkipReason, netlab as lab } from './netlab.js'
import type { RunResult } from '../helpers/cli.js'

const PREFIX = 'bps-'
const HOSTS = 6
const MiB = 1024 * 1024
/**
 * Short intervals, so that the scenarios take seconds: a lost holder counts
 * after 3 s, repair runs every 2 s, a request to a silent peer fails after
 * 5 s, and copies no owner renews go after 90 s. (A lease must outlast the
 * slowest put: a holder drops what the owner has not renewed since, and a
 * put whose peers time out one after another takes tens of seconds; with
 * a lease of 20 s the holders dropped the first chunks of such a put.)
 */
const LEASE_MS = 90_000
const LAB_CONFIG = {
  transfer: { requestTimeoutMs: 5000 },
  replication: { repairIntervalMs: 2000, graceMs: 3000, leaseMs: LEASE_MS, leaseCheckIntervalMs: 2000 }
}

const netlab = (...args: string[]): ReturnType<typeof lab> => lab(PREFIX, ...args)

function labOk (result: { code: number | null, output: string }, what: string): void {
  assert.equal(result.code, 0, `netlab ${what} failed: ${result.output}`)
}

describe('faults in the lab: partitions, a holder cut off, an owner killed, all mid-put', { timeout: 10 * 60_000 }, () => {
  const reason = labSkipReason()
  const net = new TestNetwork()
  const nodes: TestNode[] = []
  let dir: string
  let labUp = false

  before(async () => {
    if (reason != null) return
    labUp = true
    labOk(netlab('up', String(HOSTS)), 'up')
    dir = await net.dir()
    for (let i = 1; i <= HOSTS; i++) {
      const repo = join(dir, `h${i}`)
      await mkdir(repo)
      await writeFile(join(repo, 'config.json'), JSON.stringify(LAB_CONFIG))
      const node = new TestNode(repo, { wrap: inHost(PREFIX, i) })
      net.nodes.push(node)
      nodes.push(node)
    }
    await nodes[0].start({ listen: [`/ip4/${hostAddr(1)}/tcp/0`] })
    await Promise.all(nodes.slice(1).map(async (node, i) => node.start({ listen: [`/ip4/${hostAddr(i + 2)}/tcp/0`], bootstrap: [nodes[0].addrs[0]] })))
    await waitAllConnected(nodes, 60_000, 'the lab nodes did not all find each other')
  })

  after(async () => {
    try {
      // LAB_LOGS=DIR keeps each daemon's stderr (run with DEBUG=backpack:* to see why a scenario failed)
      if (process.env.LAB_LOGS != null) for (const [i, node] of nodes.entries()) await writeFile(join(process.env.LAB_LOGS, `h${i + 1}.err`), node.stderr)
      await net.close()
    } finally {
      if (labUp) {
        const down = netlab('down')
        if (down.code !== 0) process.stderr.write(`netlab down failed: ${down.output}\n`)
      }
    }
  })

  /** Every chunk file on every node, by CID: the nodes holding it intact (re-hashed against its CID). */
  async function intactCopies (): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>()
    for (const [i, node] of nodes.entries()) {
      for (const cid of await storedChunks(node.repo)) {
        const bytes = await readFile(chunkPath(node.repo, cid)).catch(() => undefined)
        if (bytes == null || !matchesCid(CID.parse(cid), bytes)) continue
        out.set(cid, [...(out.get(cid) ?? []), i])
      }
    }
    return out
  }

  /** Files left in the stores' temporary folders (chunks being received). */
  async function receiving (): Promise<number> {
    let n = 0
    for (const node of nodes) n += (await readdir(join(node.repo, 'chunks', 'tmp')).catch(() => [])).length
    return n
  }

  /** A put from `owner`, run in its host, with its result. */
  async function put (owner: TestNode, file: string, replicas: number): Promise<RunResult> {
    return owner.run(['put', file, '--replicas', String(replicas), '--json'], { timeoutMs: 180_000 })
  }

  /**
   * The snapshots are whole: verify (which repairs) says `replicas` of
   * `replicas` for each, every chunk stored since `before` (all of them
   * chunks these snapshots need) is held intact, re-hashed on disk, on at
   * least that many nodes, and each restores bit-exact.
   */
  async function whole (snaps: Array<{ owner: TestNode, id: string, name: string, hash: string }>, replicas: number, before: Set<string>): Promise<void> {
    for (const { owner, id } of snaps) {
      let last = ''
      await waitFor(async () => {
        const v = await owner.run(['verify', id, '--json'])
        last = v.stdout.trim() + v.stderr.trim()
        return v.code === 0 && JSON.parse(v.stdout)[0].replicas.actual >= replicas
      }, 90_000, `snapshot ${id} back at ${replicas} copies`).catch(err => { throw new Error(`${err.message}: ${last}`) })
    }
    const fresh = [...(await intactCopies()).entries()].filter(([cid]) => !before.has(cid))
    assert.ok(fresh.length > 0, 'the puts stored chunks')
    for (const [cid, on] of fresh) assert.ok(on.length >= replicas, `${cid} is held intact on ${on.length} nodes (${on.map(i => `h${i + 1}`).join(' ')}), verify counted ${replicas}`)
    for (const { owner, id, name, hash } of snaps) {
      const out = join(dir, `${name}.out`)
      const got = await owner.run(['get', `${id}:${name}`, '-o', out], { timeoutMs: 120_000 })
      assert.equal(got.code, 0, got.stderr)
      assert.equal(await sha256File(out), hash, `${name} restored bit-exact`)
    }
  }

  it('a partition {h1,h2,h3} | {h4,h5,h6} during puts from both sides, then healed: both snapshots whole, every copy counted really held', async t => {
    if (reason != null) { t.skip(reason); return }
    const before = new Set((await intactCopies()).keys())
    const a = join(dir, 'left.bin')
    const b = join(dir, 'right.bin')
    const hashes = await Promise.all([randomFile(a, 24 * MiB), randomFile(b, 24 * MiB)])
    const puts = [put(nodes[0], a, 3), put(nodes[3], b, 3)]
    await new Promise(resolve => setTimeout(resolve, 300))
    labOk(netlab('partition', 'h1,h2,h3', 'h4,h5,h6'), 'partition')
    const [left, right] = await Promise.all(puts)
    for (const r of [left, right]) assert.ok(r.code === 0 || r.code === 3, `put exited ${r.code}: ${r.stderr}`)
    // cut in two, a side has two other peers: a put ends with what it could place, and says so
    const ls = JSON.parse(left.stdout)
    const rs = JSON.parse(right.stdout)
    for (const [s, r] of [[ls, left], [rs, right]] as const) assert.ok(s.replicas.actual >= 2, `${s.id as string} placed ${s.replicas.actual as number} copies on its side: ${r.stderr}`)
    labOk(netlab('heal', 'all'), 'heal')
    await waitAllConnected(nodes, 60_000, 'the lab nodes did not find each other again after the partition')
    await whole([{ owner: nodes[0], id: ls.id, name: 'left.bin', hash: hashes[0] }, { owner: nodes[3], id: rs.id, name: 'right.bin', hash: hashes[1] }], 3, before)
  })

  it('a holder\'s host cut off in the middle of a put: the put places its copies on the others, the snapshot is whole, nothing half-received stays', async t => {
    if (reason != null) { t.skip(reason); return }
    const before = new Set((await intactCopies()).keys())
    const file = join(dir, 'cut.bin')
    const hash = await randomFile(file, 24 * MiB)
    const running = put(nodes[0], file, 2)
    // once h2 is receiving, cut it off
    await waitFor(async () => (await storedChunks(nodes[1].repo)).some(c => !before.has(c)) || (await readdir(join(nodes[1].repo, 'chunks', 'tmp')).catch(() => [])).length > 0, 30_000, 'h2 to receive a chunk of the put')
    labOk(netlab('cut', 'h2'), 'cut h2')
    const result = await running
    assert.equal(result.code, 0, `the put, with four other peers reachable, ends whole: ${result.stderr}`)
    const snap = JSON.parse(result.stdout)
    assert.deepEqual(snap.replicas, { desired: 2, actual: 2 })
    labOk(netlab('heal', 'h2'), 'heal h2')
    await waitAllConnected(nodes, 60_000, 'h2 did not come back')
    await whole([{ owner: nodes[0], id: snap.id, name: 'cut.bin', hash }], 2, before)
    // the chunk h2 was receiving when it was cut off was dropped when it stalled
    await waitFor(async () => await receiving() === 0, 30_000, 'no chunk left half-received')
  })

  it('the owner\'s daemon killed in the middle of a put: no snapshot, and what the put stored goes once its lease ends', async t => {
    if (reason != null) { t.skip(reason); return }
    const owner = nodes[0]
    const listed = (await owner.json(['ls'])).map((s: any) => s.id)
    const before = new Set((await intactCopies()).keys())
    const file = join(dir, 'killed.bin')
    await randomFile(file, 160 * MiB)
    const cli = spawn('env', [`NETLAB_PREFIX=${PREFIX}`, ...inHost(PREFIX, 1).slice(2), process.execPath, ...NODE_ARGS, 'put', file, '--replicas', '2', '--repo', owner.repo], { stdio: 'ignore' })
    // chunk files by name (cheap enough to poll while the put runs), new since the put began
    const fresh = async (): Promise<string[]> => (await Promise.all(nodes.map(async n => storedChunks(n.repo)))).flat().filter(c => !before.has(c))
    try {
      await waitFor(async () => (await fresh()).length >= 4, 60_000, 'the put to store some chunks')
      assert.equal(cli.exitCode, null, 'the put ended before it could be interrupted')
      await owner.kill()
    } finally {
      if (cli.exitCode == null && cli.signalCode == null) await new Promise(resolve => cli.once('exit', resolve))
    }
    const stored = (await fresh()).length
    assert.ok(stored >= 4)
    await owner.start({ listen: [`/ip4/${hostAddr(1)}/tcp/0`], bootstrap: [nodes[1].addrs[0]] })
    await waitAllConnected(nodes, 60_000, 'the owner did not rejoin')
    assert.deepEqual((await owner.json(['ls'])).map((s: any) => s.id), listed, 'no snapshot of the killed put')
    // the owner, back, has the holders drop what its journal says the put stored;
    // what was in flight when it died goes when its lease ends
    await waitFor(async () => (await fresh()).length === 0, LEASE_MS + 30_000, `the ${stored} chunks of the killed put to go by the end of their lease`)
    assert.equal(await receiving(), 0)
  })
})
