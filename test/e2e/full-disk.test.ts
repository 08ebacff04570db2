// A disk that really fills up: a small tmpfs, mounted in a mount namespace of
// the daemon's own (`unshare -rm`), so that its writes fail with ENOSPC while
// the rest of the machine is untouched. What the daemon's namespace sees is
// read through /proc/<pid>/root.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir } from 'node:fs/promises'
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

const MiB = 1024 * 1024

/** Why a mount namespace cannot be made here, or undefined when it can. */
function skipReason (): string | undefined {
  if (process.platform !== 'linux') return `mount namespaces need Linux (this is ${process.platform})`
  // nsenter into a daemon's namespace (to give it more room) needs root (CI runs as root)
  if (process.getuid?.() !== 0) return 'not root: entering a daemon\'s mount namespace needs root'
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
    await stopAll(inProcess)
    await net.close()
  })

  describe('on a holder', () => {
    let holder: TestNode
    let client: ChunkClient
    let chunks: string

    before(async () => {
      if (reason != null) return
      const repo = join(await net.dir(), 'repo')
      chunks = join(repo, 'chunks')
      await mkdir(chunks, { recursive: true })
      // 3 MiB of disk under a storage limit of 1 GiB: the disk fills first
      holder = new TestNode(repo, { wrap: withSmallDisk(chunks, 3 * 1024) })
      net.nodes.push(holder)
      await holder.start({ args: ['--storage-limit', '1GiB'] })
      const sender = await startNode()
      inProcess.push(sender)
      await sender.libp2p.dial(multiaddr(holder.addrs[0]), { signal: AbortSignal.timeout(10_000) })
      client = new ChunkClient({ dialer: sender.libp2p })
    })

    after(async () => { await client?.stop().catch(() => {}) })

    it('answers NO_SPACE, keeps no half-written copy, and serves what it has', async t => {
      if (reason != null) {
        t.skip(reason)
        return
      }
      const peer = peerIdFromString(holder.peerId)
      const stored: Array<{ bytes: Uint8Array, cid: ReturnType<typeof cidOf> }> = []
      let refusal: Error | undefined
      for (let i = 0; i < 8 && refusal == null; i++) {
        const bytes = randomBytes(MiB)
        const cid = cidOf(bytes)
        try {
          await client.put(peer, cid, bytes)
          stored.push({ bytes, cid })
        } catch (err: any) {
          refusal = err
        }
      }
      assert.ok(stored.length >= 1, 'a first chunk fits')
      assert.equal(refusal?.name, 'NoSpaceError', `refused as full: ${refusal?.name} ${refusal?.message}`)
      assert.deepEqual(await readdir(join(inNamespaceOf(holder, chunks), 'tmp')), [], 'no half-written copy left')
      for (const { bytes, cid } of stored) assert.equal(Buffer.compare(await client.get(peer, cid), bytes), 0, `${cid} served intact`)
      const status = await holder.json(['status'])
      assert.equal(status.storage.used, stored.length * MiB, 'only the stored copies are counted')
    })
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
      // room for the node to start, not for the records of a put
      owner = new TestNode(repo, { wrap: withSmallDisk(datastore, 48) })
      net.nodes.push(owner)
      await owner.start()
      holders = [await net.addNode({ bootstrap: [owner.addrs[0]] }), await net.addNode({ bootstrap: [owner.addrs[0]] })]
      await waitAllConnected([owner, ...holders], 30_000, 'the owner and its holders did not connect')
    })

    it('fails the put with one line, has the holders drop what it sent, keeps running, and puts again once there is room', async t => {
      if (reason != null) {
        t.skip(reason)
        return
      }
      const dir = await net.dir()
      const file = join(dir, 'a.bin')
      const hash = await randomFile(file, 16 * MiB)
      const full = await runCli(['put', file, '--replicas', '1', '--repo', owner.repo])
      assert.equal(full.code, 1, full.stderr)
      assert.equal(full.stderr.trim().split('\n').length, 1, full.stderr)
      assert.match(full.stderr, /^error: no space left on this node's disk: /)
      assert.ok(owner.running, 'the node keeps running')
      // the copies it sent before it failed are dropped, though no tombstone could be written
      let most = 0
      await waitFor(async () => {
        const held = (await Promise.all(holders.map(async h => (await storedChunks(h.repo)).length))).reduce((a, b) => a + b, 0)
        most = Math.max(most, held)
        return most > 0 && held === 0
      }, 20_000, 'the holders to drop the copies of the failed put')

      // more room, as after the user freed some: no restart needed
      const remount = spawnSync('nsenter', ['-t', String(owner.proc?.pid), '-m', 'mount', '-o', 'remount,size=16m', datastore], { encoding: 'utf8' })
      assert.equal(remount.status, 0, remount.stderr)
      const put = await runCli(['put', file, '--replicas', '1', '--json', '--repo', owner.repo])
      assert.equal(put.code, 0, put.stderr)
      const [{ id }] = JSON.parse(put.stdout)
      const out = join(dir, 'a.out')
      const get = await runCli(['get', id, '-o', out, '--repo', owner.repo])
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
      owner = new TestNode(join(dir, 'repo'), { wrap: withSmallDisk(small, 3 * 1024) })
      net.nodes.push(owner)
      await owner.start()
      const holders = [await net.addNode({ bootstrap: [owner.addrs[0]] }), await net.addNode({ bootstrap: [owner.addrs[0]] })]
      await waitAllConnected([owner, ...holders], 30_000, 'the owner and its holders did not connect')
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
      const [{ id }] = JSON.parse(put.stdout)

      const full = await runCli(['get', id, '-o', join(small, 'big.bin'), '--repo', owner.repo])
      assert.equal(full.code, 1, full.stderr)
      assert.equal(full.stderr.trim().split('\n').length, 1, full.stderr)
      assert.match(full.stderr, /^error: no space left on the disk of .*big\.bin/)
      assert.deepEqual(await readdir(inNamespaceOf(owner, small)), [], 'no partial or temporary file')

      const out = join(dir, 'out.bin')
      const again = await runCli(['get', id, '-o', out, '--repo', owner.repo])
      assert.equal(again.code, 0, again.stderr)
      assert.equal(await sha256File(out), hash)
    })
  })
})
