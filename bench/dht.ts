// DHT latency: `provide` and `findProviders` on N in-process backpack nodes
// (src/node's createNode: the same kad-dht settings as the daemon) on
// 127.0.0.1, and where the time goes, from the query events: queries sent,
// hops (a peer learnt from a hop-h answer is at hop h + 1) and RPC times.
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createNode } from '../src/node/index.js'
import { DEFAULT_CONFIG_PATH, readConfigFile, validateConfig } from '../src/repo/config.js'
import { median } from './stats.js'
import type { BackpackLibp2p } from '../src/node/index.js'
import type { QueryEvent, SingleKadDHT } from '@libp2p/kad-dht'

const QUERY_TIMEOUT_MS = 30_000
const FILL_TIMEOUT_MS = 60_000
const SETTLE_MS = 2_000
const JOIN_DIALS = 3

export interface DhtInit {
  nodes: number
  trials: number
}

/** What one query did: its time and where that time went. */
export interface QueryStats {
  ms: number
  /** Queries sent (SEND_QUERY events) */
  queries: number
  /** Deepest hop queried; for findProviders, the hop whose answer named the provider */
  hops: number
  /** Median time between a query and its answer, ms */
  rpcMs: number
  errors: number
  /** provide: the lookup of the closest peers, before the first ADD_PROVIDER */
  lookupMs?: number
  /** findProviders: the asking node held the record itself (every node did) */
  local?: boolean
}

export interface DhtResult {
  nodes: number
  /** Routing table sizes once filled: min and median */
  routingTable: { min: number, median: number, fillMs: number }
  provide: QueryStats[]
  findProviders: QueryStats[]
}

/** Follows a query's events: hops, per-RPC times, errors. */
class QueryTracker {
  private readonly started = performance.now()
  private readonly hop = new Map<string, number>()
  private readonly sentAt = new Map<string, number>()
  private readonly rpc: number[] = []
  queries = 0
  maxHop = 0
  errors = 0
  lookupMs?: number

  /** Returns the hop of the answer when it names a provider. */
  on (event: QueryEvent): number | undefined {
    const now = performance.now()
    if (event.name === 'SEND_QUERY') {
      const id = event.to.toString()
      this.queries++
      this.sentAt.set(id, now)
      const hop = this.hop.get(id) ?? 1
      this.hop.set(id, hop)
      this.maxHop = Math.max(this.maxHop, hop)
      if (event.messageName === 'ADD_PROVIDER' && this.lookupMs == null) this.lookupMs = now - this.started
    } else if (event.name === 'PEER_RESPONSE') {
      const id = event.from.toString()
      const sent = this.sentAt.get(id)
      if (sent != null) this.rpc.push(now - sent)
      const hop = this.hop.get(id) ?? 1
      for (const peer of event.closer) {
        const other = peer.id.toString()
        if (!this.hop.has(other)) this.hop.set(other, hop + 1)
      }
      if (event.providers.length > 0) return hop
    } else if (event.name === 'QUERY_ERROR') {
      this.errors++
    }
    return undefined
  }

  stats (hops = this.maxHop): QueryStats {
    return {
      ms: performance.now() - this.started,
      queries: this.queries,
      hops,
      rpcMs: median(this.rpc),
      errors: this.errors,
      lookupMs: this.lookupMs
    }
  }
}

async function randomCid (): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(randomBytes(32)))
}

async function startNodes (n: number): Promise<BackpackLibp2p[]> {
  const config = validateConfig(await readConfigFile(DEFAULT_CONFIG_PATH))
  return Promise.all(Array.from({ length: n }, async () => createNode({
    privateKey: await generateKeyPair('Ed25519'),
    datastore: new MemoryDatastore()
  }, {
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    allow: ['/ip4/127.0.0.0/ipcidr/8'],
    maxConnections: config.connections.maxConnections,
    dhtProtocol: config.dht.protocol
  })))
}

/**
 * Join every node to node 0 and a few random earlier ones, one node at a
 * time (all at once, the handshakes of 30 nodes sharing one event loop time
 * out), then wait until every routing table holds a third of the network and
 * has stopped changing.
 */
async function join (nodes: BackpackLibp2p[]): Promise<DhtResult['routingTable']> {
  const started = performance.now()
  for (let i = 1; i < nodes.length; i++) {
    const targets = new Set([0, ...Array.from({ length: JOIN_DIALS }, () => Math.floor(Math.random() * i))])
    await Promise.all([...targets].map(async t => nodes[i].dial(nodes[t].getMultiaddrs()[0]).catch(() => {})))
  }
  const want = Math.ceil((nodes.length - 1) / 3)
  const sizes = (): number[] => nodes.map(n => (n.services.dht as SingleKadDHT).routingTable.size)
  const deadline = Date.now() + FILL_TIMEOUT_MS
  let last = ''
  let stableSince = Date.now()
  while (Date.now() < deadline) {
    const now = sizes()
    if (now.join() !== last) {
      last = now.join()
      stableSince = Date.now()
    } else if (Math.min(...now) >= want && Date.now() - stableSince >= SETTLE_MS) {
      break
    }
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  const fillMs = performance.now() - started
  return { min: Math.min(...sizes()), median: median(sizes()), fillMs }
}

/** Provide; also returns the peers sent the provider record. */
async function provide (node: BackpackLibp2p, cid: CID): Promise<{ stats: QueryStats, holders: Set<string> }> {
  const tracker = new QueryTracker()
  const holders = new Set<string>()
  for await (const event of node.services.dht.provide(cid, { signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) })) {
    tracker.on(event)
    if (event.name === 'SEND_QUERY' && event.messageName === 'ADD_PROVIDER') holders.add(event.to.toString())
  }
  return { stats: tracker.stats(), holders }
}

async function findProvider (node: BackpackLibp2p, cid: CID): Promise<QueryStats> {
  const tracker = new QueryTracker()
  const controller = new AbortController()
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(QUERY_TIMEOUT_MS)])
  try {
    for await (const event of node.services.dht.findProviders(cid, { signal })) {
      const hop = tracker.on(event)
      if (hop != null || event.name === 'PROVIDER') {
        const stats = tracker.stats(hop ?? 0)
        controller.abort()
        return stats
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err
  }
  throw new Error(`findProviders found no provider for ${cid}`)
}

/** Run `trials` provide + findProviders pairs, each from a random pair of nodes. */
export async function measureDht (init: DhtInit): Promise<DhtResult> {
  const nodes = await startNodes(init.nodes)
  try {
    const routingTable = await join(nodes)
    const result: DhtResult = { nodes: init.nodes, routingTable, provide: [], findProviders: [] }
    for (let trial = 0; trial < init.trials; trial++) {
      const provider = nodes[trial % nodes.length]
      const cid = await randomCid()
      const { stats, holders } = await provide(provider, cid)
      result.provide.push(stats)
      // ask from a node that does not hold the record when there is one (with
      // k = 20, small networks hold every record everywhere: a local answer)
      const others = nodes.filter(n => n !== provider)
      const remote = others.filter(n => !holders.has(n.peerId.toString()))
      const pool = remote.length > 0 ? remote : others
      const finder = pool[Math.floor(Math.random() * pool.length)]
      const found = await findProvider(finder, cid)
      result.findProviders.push({ ...found, local: remote.length === 0 })
    }
    return result
  } finally {
    await Promise.all(nodes.map(async n => { await Promise.resolve(n.stop()).catch(() => {}) }))
  }
}
