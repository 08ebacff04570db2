// A disk that really fills up: a small tmpfs, mounted in a mount namespace of
// the daemon's own (`unshare -rm`), so that its writes fail with ENOSPC while
// the rest of the machine is untouched. What the daemon's namespace sees is
// read through /proc/<pid>/root.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rm, statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { cidOf } from '../../src/chunking/index.js'
import { ChunkClient } from '../../src/protocol/client.js'
import { TestNetwork, TestNode, runCli, waitAllConnected, waitFor } from '../helpers/cli.js'
import { randomFile, sha256File, storedChunks } from '../helpers/files.js'
import { startNode, stopAll } from '../helpers/nodes.js'
import type { TestNode as InProcessNode } from '../helpers/nodes.js'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const MiB = 1024 * 1024

/** Why a mount namespace cannot be made here, or undefined when it can. */
function skipReason (): string | undefined {
  if (process.platform !== 'linux') return `mount namespaces need Linux (this is ${process.platform})`
  const probe = spawnSync('unshare', ['-rm', 'true'], { encoding: 'utf8' })
  if (probe.error != null || probe.status !== 0) return `unshare -rm is not allowed here: ${probe.error?.message ?? probe.stderr.trim()}`
  return undefined
}

/** A `wrap` that runs a command with a tmpfs of `kib` KiB at `dir`, seen only by that command. */
function withSmallDisk (dir: string, kib: number): string[] {
  return ['unshare', '-rm', 'sh', '-c', `mount -t tmpfs -o size=${kib}k tmpfs "$1" && shift && exec "$@"`, 'sh', dir]
}

/** `dir` as the node's own mount namespace sees it. */
function inNamespaceOf (node: TestNode, dir: string): string {
  return join(`/proc/${node.proc?.pid ?? 0}/root`, dir)
}

describe('a disk that fills up', { timeout: 120_000 }, () => {
  const reason = skipReason()
  const net = new TestNetwork()
  const inProcess: InProcessNode[] = []

  after(async () => {
    await Promise.all(clients.map(async c => c.stop().catch(() => {})))
    await stopAll(inProcess)
    await net.close()
  })

  const clients: ChunkClient[] = []

  /** A chunk protocol client on an in-process node connected to `holder`. */
  async function clientOf (holder: TestNode): Promise<ChunkClient> {
    const sender = await startNode()
    inProcess.push(sender)
    await sender.libp2p.dial(multiaddr(holder.addrs[0]), { signal: AbortSignal.timeout(10_000) })
    const client = new ChunkClient({ dialer: sender.libp2p })
    clients.push(client)
    return client
  }

  /** A node started through `wrap`, and two plain holders joined through it. */
  async function ownerWithHolders (repo: string, wrap: string[]): Promise<{ owner: TestNode, holders: TestNode[] }> {
    const owner = new TestNode(repo, { wrap })
    net.nodes.push(owner)
    await owner.start()
    const holders = [await net.addNode({ bootstrap: [owner.addrs[0]] }), await net.addNode({ bootstrap: [owner.addrs[0]] })]
    await waitAllConnected([owner, ...holders], 30_000, 'the owner and its holders did not connect')
    return { owner, holders }
  }

  /** A holder (storage limit 1 GiB) with a small disk under `sub` of its repo, and a client to it. */
  async function holderWithSmallDisk (sub: 'chunks' | 'datastore', kib: number): Promise<{ holder: TestNode, peer: PeerId, client: ChunkClient, disk: string }> {
    const repo = join(await net.dir(), 'repo')
    const dir = join(repo, sub)
    await mkdir(dir, { recursive: true })
    const holder = new TestNode(repo, { wrap: withSmallDisk(dir, kib) })
    net.nodes.push(holder)
    await holder.start({ args: ['--storage-limit', '1GiB'] })
    return { holder, peer: peerIdFromString(holder.peerId), client: await clientOf(holder), disk: inNamespaceOf(holder, dir) }
  }

  interface Sent { bytes: Uint8Array, cid: CID }

  /** Put chunks of `size` random bytes until the holder refuses one (or `max` were taken). */
  async function putUntilRefused (client: ChunkClient, peer: PeerId, size: number, max: number): Promise<{ stored: Sent[], refused?: Sent & { err: Error } }> {
    const stored: Sent[] = []
    for (let i = 0; i < max; i++) {
      const bytes = randomBytes(size)
      const cid = cidOf(bytes)
      try {
        await client.put(peer, cid, bytes)
        stored.push({ bytes, cid })
      } catch (err: any) {
        return { stored, refused: { bytes, cid, err } }
      }
    }
    return { stored }
  }

  describe('on a holder', () => {
    it('answers NO_SPACE when its disk is full, keeps no half-written copy, and serves what it has', async t => {
      if (reason != null) {
        t.skip(reason)
        return
      }
      // 3 MiB of disk under a storage limit of 1 GiB: the disk fills first
      const { holder, peer, client, disk } = await holderWithSmallDisk('chunks', 3 * 1024)
      const { stored, refused } = await putUntilRefused(client, peer, MiB, 8)
      assert.ok(stored.length >= 1, 'a first chunk fits')
      assert.equal(refused?.err.name, 'NoSpaceError', `refused as full: ${refused?.err.message}`)
      assert.deepEqual(await readdir(join(disk, 'tmp')), [], 'no half-written copy left')
      for (const { bytes, cid } of stored) assert.equal(Buffer.compare(await client.get(peer, cid), bytes), 0, `${cid} served intact`)
      assert.equal((await holder.json(['status'])).storage.used, stored.length * MiB, 'only the stored copies are counted')
    })

    it('answers NO_SPACE when a copy fits but not its record, and keeps no unclaimed copy', async t => {
      if (reason != null) {
        t.skip(reason)
        return
      }
      const { holder, peer, client, disk } = await holderWithSmallDisk('datastore', 4 * 1024)
      const free = await statfs(disk)
      const filler = join(disk, 'filler')
      await writeFile(filler, Buffer.alloc(free.bavail * free.bsize))
      // records fill what is left of the datastore's last page, then one does not fit
      const { stored, refused } = await putUntilRefused(client, peer, 1024, 1000)
      assert.equal(refused?.err.name, 'NoSpaceError', `refused as full: ${refused?.err.message}`)
      assert.deepEqual((await storedChunks(holder.repo)).sort(), stored.map(s => s.cid.toString()).sort(), 'no copy without a claim')
      assert.equal((await holder.json(['status'])).storage.used, stored.length * 1024)
      // room again
      await rm(filler)
      await client.put(peer, refused.cid, refused.bytes)
      assert.equal(Buffer.compare(await client.get(peer, refused.cid), refused.bytes), 0)
    })
  })

  it('a start whose datastore cannot open on a full disk says so in one line', async t => {
    if (reason != null) {
      t.skip(reason)
      return
    }
    const repo = join(await net.dir(), 'repo')
    const datastore = join(repo, 'datastore')
    await mkdir(datastore, { recursive: true })
    // one page: not enough for the datastore's first files
    const result = await runCli(['start', '--repo', repo, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'], { wrap: withSmallDisk(datastore, 4), timeoutMs: 20_000 })
    assert.equal(result.code, 1, result.stderr)
    assert.deepEqual(result.stderr.trim().split('\n'), [`error: no space left on the disk of ${datastore}: the datastore cannot open`])
  })

  describe('under the repo of the node that backs up', () => {
    let owner: TestNode
    let holders: TestNode[]
    let datastore: string

    before(async () => {
      if (reason != null) return
      const dir = await net.dir()
      const repo = join(dir, 'repo')
      datastore = join(repo, 'datastore')
      await mkdir(datastore, { recursive: true })
      ;({ owner, holders } = await ownerWithHolders(repo, withSmallDisk(datastore, 4 * 1024)))
    })

    it('fails the put with one line, has the holders drop what it sent, keeps running, and puts again once there is room', async t => {
      if (reason != null) {
        t.skip(reason)
        return
      }
      const dir = await net.dir()
      const file = join(dir, 'a.bin')
      const hash = await randomFile(file, 64 * MiB)
      // fill the node's disk but for room for the records of a few chunks (a few
      // hundred bytes each), as the user's other files would
      const disk = inNamespaceOf(owner, datastore)
      const free = await statfs(disk)
      const filler = join(disk, 'filler')
      await writeFile(filler, Buffer.alloc(free.bavail * free.bsize - 8 * 1024))
      const full = await runCli(['put', file, '--replicas', '1', '--repo', owner.repo])
      assert.equal(full.code, 1, full.stderr)
      assert.equal(full.stderr.trim().split('\n').length, 1, full.stderr)
      assert.match(full.stderr, /^error: no space left on this node's disk: /)
      assert.ok(owner.running, 'the node keeps running')
      assert.deepEqual(await owner.json(['ls']), [], 'no snapshot of the failed put')
      // the copies it sent before it failed (if any) are dropped, though no tombstone could be written
      let most = 0
      let held = 0
      await waitFor(async () => {
        held = (await Promise.all(holders.map(async h => (await storedChunks(h.repo)).length))).reduce((a, b) => a + b, 0)
        most = Math.max(most, held)
        return held === 0
      }, 20_000, 'the holders to drop the copies of the failed put').catch(err => {
        throw new Error(`${err.message}: ${held} chunks still held (at most ${most} seen)`)
      })

      // the user frees some room: no restart needed
      await rm(filler)
      const put = await runCli(['put', file, '--replicas', '1', '--json', '--repo', owner.repo])
      assert.equal(put.code, 0, put.stderr)
      const { id } = JSON.parse(put.stdout)
      const out = join(dir, 'a.out')
      const get = await runCli(['get', `${id}:a.bin`, '-o', out, '--repo', owner.repo])
      assert.equal(get.code, 0, get.stderr)
      assert.equal(await sha256File(out), hash)
    })
  })

  describe('on the node that restores', () => {
    let owner: TestNode
    let small: string

    before(async () => {
      if (reason != null) return
      const dir = await net.dir()
      small = join(dir, 'small')
      await mkdir(small)
      ;({ owner } = await ownerWithHolders(join(dir, 'repo'), withSmallDisk(small, 3 * 1024)))
    })

    it('fails the get with one line, leaves no partial file, and restores elsewhere', async t => {
      if (reason != null) {
        t.skip(reason)
        return
      }
      const dir = await net.dir()
      const file = join(dir, 'big.bin')
      const hash = await randomFile(file, 8 * MiB)
      // the CLI outside the daemon's namespace: only the daemon writes the file
      const put = await runCli(['put', file, '--replicas', '1', '--json', '--repo', owner.repo])
      assert.equal(put.code, 0, put.stderr)
      const { id } = JSON.parse(put.stdout)

      const full = await runCli(['get', `${id}:big.bin`, '-o', join(small, 'big.bin'), '--repo', owner.repo])
      assert.equal(full.code, 1, full.stderr)
      assert.equal(full.stderr.trim().split('\n').length, 1, full.stderr)
      // the disk named by the file or the directory it goes into
      assert.match(full.stderr, /^error: no space left on the disk of .*(big\.bin|small)\b/)
      assert.deepEqual(await readdir(inNamespaceOf(owner, small)), [], 'no partial or temporary file')

      const out = join(dir, 'out.bin')
      const again = await runCli(['get', `${id}:big.bin`, '-o', out, '--repo', owner.repo])
      assert.equal(again.code, 0, again.stderr)
      assert.equal(await sha256File(out), hash)
    })
  })
})
