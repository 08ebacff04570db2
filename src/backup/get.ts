import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, rename, unlink, utimes } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { FileExistsError, NoSpaceError, UnavailableError, isDiskFull } from '../errors.js'
import { pathExists } from '../util/fs.js'
import { delay, forEachConcurrent } from '../util/concurrency.js'
import { throttled } from '../util/progress.js'
import type { BackupComponents, BackupInit, ProgressFn } from './index.js'
import type { CatalogEntry } from './catalog.js'
import type { PeerId } from '@libp2p/interface'

const log = logger('backpack:get')

/** Passes over a chunk's holders and providers before it counts as unavailable. */
export const FETCH_ROUNDS = 3
/** Wait before the second pass; the third waits twice as long. */
export const FETCH_RETRY_DELAY_MS = 1_000

export interface GetOptions {
  force?: boolean
  signal?: AbortSignal
  onProgress?: ProgressFn
}

export interface GetResult {
  id: string
  name: string
  size: number
  path: string
}

/**
 * Fetch one chunk and hand it to `accept`: from the recorded holders first
 * (connected ones first, starting at a different holder per chunk to spread
 * the load), then from the peers that announce this node's holder group
 * in the DHT. A peer whose copy is missing, or
 * that `accept` refuses (wrong hash, does not open), makes way for the next.
 * Without `accept`, copies are checked against the CID as they arrive.
 */
export async function fetchChunk<T = Uint8Array> (components: BackupComponents, cid: CID, holders: string[], spread: number, signal?: AbortSignal, accept?: (sealed: Uint8Array) => Promise<T>, rounds = FETCH_ROUNDS): Promise<T> {
  const { client, peers } = components
  let tried = new Set<string>()
  const attempt = async (peer: PeerId): Promise<T | undefined> => {
    tried.add(peer.toString())
    try {
      const sealed = await client.get(peer, cid, { signal, verify: accept == null })
      return accept != null ? await accept(sealed) : sealed as T
    } catch (err: any) {
      signal?.throwIfAborted()
      log('chunk %c from %p failed: %s', cid, peer, err.message)
      return undefined
    }
  }
  for (let round = 0; round < rounds; round++) {
    // a peer that timed out under load may answer a moment later
    if (round > 0) await delay(FETCH_RETRY_DELAY_MS * round, signal)
    tried = new Set([components.peerId.toString()])
    const rotated = rotate(holders, spread)
    const ordered = [...rotated.filter(h => peers.isConnected(h)), ...rotated.filter(h => !peers.isConnected(h))]
    for (const holder of ordered) {
      if (tried.has(holder)) continue
      const result = await attempt(peers.get(holder) ?? components.peerIdFromString(holder))
      if (result !== undefined) return result
    }
    // the peers that announce this node's holder group hold some of its chunks
    let holdersFound: PeerId[] = []
    try {
      holdersFound = await components.groupLookup.holders(signal)
    } catch (err: any) {
      signal?.throwIfAborted()
      log('looking up the holder group failed: %s', err.message)
    }
    for (const holder of rotate(holdersFound, spread)) {
      if (tried.has(holder.toString())) continue
      const result = await attempt(holder)
      if (result !== undefined) return result
    }
    // none had it: what the DHT said may be out of date by the next pass
    components.groupLookup.forget()
  }
  throw new UnavailableError(`chunk ${cid} is unavailable: none of ${tried.size - 1} peers tried has a good copy`)
}

/** `list` starting at index `spread` (wrapping): each chunk asks a different peer first. */
function rotate<T> (list: T[], spread: number): T[] {
  return list.map((_, i) => list[(i + spread) % list.length])
}

/** Restore a backup into `target`: written to a temp file, then renamed. */
export async function getFile (components: BackupComponents, init: BackupInit, entry: CatalogEntry, target: string, options: GetOptions): Promise<GetResult> {
  if (!options.force && await pathExists(target)) {
    throw new FileExistsError(`${target} exists: pass --force to overwrite it`)
  }
  await mkdir(dirname(target), { recursive: true })
  const tmp = join(dirname(target), `.${basename(target)}.backpack-${randomBytes(4).toString('hex')}`)
  // recorded, so that a node that dies mid-restore removes it at its next start
  const forget = await components.restores.begin(tmp).catch(err => {
    log('restoring %s without a record of %s: %s', entry.name, tmp, err.message)
    return async () => {}
  })
  try {
    return await restoreInto(components, init, entry, target, tmp, options)
  } finally {
    await forget().catch(() => {})
  }
}

async function restoreInto (components: BackupComponents, init: BackupInit, entry: CatalogEntry, target: string, tmp: string, options: GetOptions): Promise<GetResult> {
  const handle = await open(tmp, 'w', 0o600)
  let done = 0
  const progress = throttled(() => { options.onProgress?.({ type: 'get:bytes', name: entry.name, done, total: entry.size }) })
  options.onProgress?.({ type: 'get:file', name: entry.name, total: entry.size })
  try {
    const offsets: number[] = []
    let offset = 0
    for (const chunk of entry.chunks) {
      offsets.push(offset)
      offset += chunk.size
    }
    await forEachConcurrent(entry.chunks.keys(), init.chunksInFlight, async i => {
      const chunk = entry.chunks[i]
      const cid = CID.parse(chunk.cid)
      // hash check and decryption, on this thread or a crypto worker (transfer.cryptoWorkers)
      const plain = await fetchChunk(components, cid, chunk.holders, i, options.signal, async sealed => components.crypto.open(sealed, cid))
      if (plain.byteLength !== chunk.size) throw new UnavailableError(`chunk ${i} of ${entry.name} has ${plain.byteLength} bytes, the manifest says ${chunk.size}`)
      await handle.write(plain, 0, plain.byteLength, offsets[i])
      done += plain.byteLength
      progress()
    }, options.signal)
    await handle.truncate(entry.size)
    await handle.sync()
    await handle.close()
    await chmod(tmp, entry.mode & 0o7777 || 0o644)
    await utimes(tmp, new Date(entry.mtime), new Date(entry.mtime))
    if (!options.force && await pathExists(target)) {
      throw new FileExistsError(`${target} exists: pass --force to overwrite it`)
    }
    await rename(tmp, target)
  } catch (err) {
    await handle.close().catch(() => {})
    await unlink(tmp).catch(() => {})
    if (isDiskFull(err)) throw new NoSpaceError(`no space left on the disk of ${target} for ${entry.size} bytes`)
    throw err
  }
  options.onProgress?.({ type: 'get:bytes', name: entry.name, done: entry.size, total: entry.size })
  return { id: entry.id, name: entry.name, size: entry.size, path: target }
}
