import { generateKeyPair } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { createNode } from '../../src/node/index.js'
import { ChunkHandler } from '../../src/protocol/handler.js'
import { ChunkStore } from '../../src/store/index.js'
import { tempDir } from './tmp.js'
import type { BackpackLibp2p } from '../../src/node/index.js'
import type { PrivateKey } from '@libp2p/interface'

/** A real libp2p node on 127.0.0.1, with a chunk store and handler when `serve`. */
export interface TestNode {
  libp2p: BackpackLibp2p
  /** The node's key (its chunk clients sign their claims with it, as a daemon's do) */
  privateKey: PrivateKey
  store?: ChunkStore
  /** The store's folder of chunk files */
  storeDir?: string
  handler?: ChunkHandler
  stop: () => Promise<void>
}

export interface TestNodeOptions {
  /** Serve the chunk protocol from a store with this limit in bytes */
  serve?: { limit: number, onGroup?: (owner: string, group: Uint8Array, sender: string) => Promise<void>, peerShare?: number, stallTimeoutMs?: number, requestsPerSecond?: number, cidsPerSecond?: number }
}

/**
 * Start a node. The caller must `stop()` it, even when a test fails:
 * push it into a list the `after` hook stops with `stopAll`.
 */
export async function startNode (options: TestNodeOptions = {}): Promise<TestNode> {
  const privateKey = await generateKeyPair('Ed25519')
  const libp2p = await createNode({
    privateKey,
    datastore: new MemoryDatastore()
  }, {
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    allow: ['/ip4/127.0.0.1/ipcidr/8'],
    maxConnections: 100,
    dhtProtocol: '/backpack-test/kad/1.0.0'
  })
  const cleanups: Array<() => Promise<void>> = [async () => libp2p.stop()]
  let stopped = false
  const node: TestNode = {
    libp2p,
    privateKey,
    stop: async () => {
      if (stopped) return
      stopped = true
      for (const fn of [...cleanups].reverse()) await fn().catch(() => {})
    }
  }
  try {
    if (options.serve != null) {
      const { dir, cleanup } = await tempDir('backpack-store-')
      cleanups.push(cleanup)
      node.storeDir = dir
      node.store = new ChunkStore({ datastore: new MemoryDatastore() }, { dir, limit: options.serve.limit, fsync: false, peerShare: options.serve.peerShare ?? 1 })
      await node.store.start()
      node.handler = new ChunkHandler({ registrar: libp2p, store: node.store }, { onGroup: options.serve.onGroup, stallTimeoutMs: options.serve.stallTimeoutMs, requestsPerSecond: options.serve.requestsPerSecond, cidsPerSecond: options.serve.cidsPerSecond })
      await node.handler.start()
      const handler = node.handler
      cleanups.push(async () => handler.stop())
    }
  } catch (err) {
    await node.stop()
    throw err
  }
  return node
}

/** Stop every node, whatever fails. */
export async function stopAll (nodes: TestNode[]): Promise<void> {
  await Promise.all(nodes.splice(0).map(async n => n.stop()))
}

/** Connect `from` to `to` by its listen address. */
export async function connect (from: TestNode, to: TestNode): Promise<void> {
  await from.libp2p.dial(to.libp2p.getMultiaddrs(), { signal: AbortSignal.timeout(10_000) })
}

/** Poll until `check` is true, or fail after `timeoutMs`. */
export async function waitFor (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
