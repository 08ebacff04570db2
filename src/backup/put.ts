import { stat } from 'node:fs/promises'
import { logger } from '@libp2p/logger'
import { cidOf, readPieces } from '../chunking/index.js'
import { InvalidInputError, UnavailableError } from '../errors.js'
import { forEachConcurrent } from '../util/concurrency.js'
import { throttled } from '../util/progress.js'
import { newSession } from '../replication/placement.js'
import { encodeManifest } from './manifest.js'
import type { PendingPut } from './journal.js'
import type { BackupComponents, BackupInit, ProgressFn } from './index.js'
import type { CatalogEntry, ChunkPlacement } from './catalog.js'
import type { PlacementSession } from '../replication/placement.js'

const log = logger('backpack:put')

export interface PutOptions {
  replicas: number
  signal?: AbortSignal
  onProgress?: ProgressFn
}

export interface PutResult {
  id: string
  name: string
  size: number
  chunks: number
  replicas: { desired: number, actual: number }
  /** Why actual < desired */
  degraded?: string
  /** The file changed while it was read: what the backup holds */
  changed?: string
}

/** Lowest holder count over a backup's chunks and its manifest. */
export function lowestCount (counts: number[]): number {
  return counts.length === 0 ? 0 : Math.min(...counts)
}

/**
 * Back up one file: read it piece by piece, seal each piece, place each on
 * `replicas` distinct peers with a bounded number of pieces in flight, then
 * seal and place the manifest and record the backup in the catalog.
 */
export async function putFile (components: BackupComponents, init: BackupInit, path: string, name: string, options: PutOptions): Promise<PutResult> {
  const pending = components.journal.begin()
  try {
    return await storeFile(components, init, path, name, options, pending)
  } catch (err) {
    // whatever was stored so far is dropped again, unless a backup uses it;
    // in the background, so the error is not held up
    components.abandon(pending).catch(cleanup => { log('cleaning up after %s failed: %s', name, cleanup.message) })
    throw err
  }
}

async function storeFile (components: BackupComponents, init: BackupInit, path: string, name: string, options: PutOptions, pending: PendingPut): Promise<PutResult> {
  const { cipher, crypto, placement, peers, catalog } = components
  let info
  try {
    info = await stat(path)
  } catch (err: any) {
    throw new InvalidInputError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code ?? err.message}`)
  }
  if (!info.isFile()) throw new InvalidInputError(`cannot back up ${path}: not a regular file`)
  const desired = options.replicas
  const self = components.peerId.toString()
  const session: PlacementSession = newSession()
  const exclude = new Set([self])
  const chunks: ChunkPlacement[] = []
  /** Journal writes of the chunks placed, done before the manifest goes out */
  const journaled: Array<Promise<void>> = []
  let journalError: Error | undefined
  let done = 0
  const progress = throttled(() => { options.onProgress?.({ type: 'put:bytes', name, done, total: info.size }) })
  options.onProgress?.({ type: 'put:file', name, total: info.size })

  const noPeers = (): string => `no peer could take a chunk of ${name}: ${peers.list().length} peers reachable` +
    (session.full.size > 0 ? `, ${session.full.size} without space` : '') +
    (session.failed.size > 0 ? `, ${session.failed.size} failing` : '')

  let pieces
  try {
    // buffers of sealed pieces come back from the crypto worker and are read into again
    const spares: Buffer[] = []
    pieces = readPieces(path, init.chunkSize, { signal: options.signal, alloc: () => spares.pop() })
    await forEachConcurrent(pieces, init.chunksInFlight, async piece => {
      // a journal that cannot be written (a full disk) fails the put: place no more
      if (journalError != null) throw journalError
      const size = piece.bytes.byteLength
      // sealing and hashing, on this thread or a crypto worker; piece.bytes is handed over
      const { sealed, cid, spare } = await crypto.seal(piece.bytes)
      if (spare != null && spare.byteLength === init.chunkSize && spares.length < init.chunksInFlight) spares.push(Buffer.from(spare))
      // the peers that may take it, then (once placed) those that did: a
      // put cut off while a copy is on its way still knows where to look.
      // Not awaited here: a datastore write waits for a thread of the pool
      // that reads the file, and holding each chunk for it cost a tenth of
      // the put's speed
      const ranked = peers.rank(cid, exclude)
      const intent = pending.record(cid.toString(), ranked.map(String))
      intent.catch(err => { journalError ??= err })
      const holders = await placement.place(cid, sealed, desired, session, { ranked, signal: options.signal })
      if (holders.length === 0) throw new UnavailableError(noPeers())
      pending.remember(cid.toString(), holders)
      const placed = intent.then(async () => pending.record(cid.toString(), holders))
      placed.catch(err => { journalError ??= err }) // and seen by the Promise.all below
      journaled.push(placed)
      chunks[piece.index] = { cid: cid.toString(), size, holders }
      done += size
      progress()
    }, options.signal)
  } catch (err: any) {
    if (err.code === 'EACCES' || err.code === 'EISDIR' || err.code === 'ENOENT') {
      throw new InvalidInputError(`cannot read ${path}: ${err.code}`)
    }
    throw err
  }

  await Promise.all(journaled)
  // the backup is what was read: a file written to meanwhile is restored as
  // read, never padded or cut to the size it had before
  const size = chunks.reduce((sum, c) => sum + c.size, 0)
  const after = await stat(path).catch(() => undefined)
  const changed = size !== info.size || after?.size !== info.size || after?.mtimeMs !== info.mtimeMs
  const created = Date.now()
  const body = { name, size, mode: info.mode & 0o7777, mtime: info.mtimeMs, created, replicas: desired, chunkSize: init.chunkSize, chunks }
  const sealedManifest = cipher.seal(encodeManifest(body))
  const id = cidOf(sealedManifest)
  const ranked = peers.rank(id, exclude)
  await pending.record(id.toString(), ranked.map(String))
  const manifestHolders = await placement.place(id, sealedManifest, desired, session, { ranked, signal: options.signal, manifest: true })
  if (manifestHolders.length === 0) throw new UnavailableError(noPeers())
  await pending.record(id.toString(), manifestHolders)
  const entry: CatalogEntry = { id: id.toString(), ...body, manifest: { holders: manifestHolders } }
  await catalog.put(entry)
  await pending.end()
  progress(true)

  const actual = lowestCount([manifestHolders.length, ...chunks.map(c => c.holders.length)])
  const result: PutResult = { id: entry.id, name, size, chunks: chunks.length, replicas: { desired, actual } }
  if (changed) result.changed = `${name} changed while it was read: the backup holds the ${size} bytes read`
  if (actual < desired) {
    const reachable = peers.list().length
    result.degraded = `${name} has ${actual} of ${desired} replicas: only ${reachable} peer${reachable === 1 ? '' : 's'} reachable` +
      (session.full.size > 0 ? `, ${session.full.size} without space` : '') +
      (session.failed.size > 0 ? `, ${session.failed.size} failing` : '')
  }
  log('put %s as %s: %d chunks, %d/%d replicas', name, entry.id, chunks.length, actual, desired)
  return result
}
