import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { decodeManifest } from './manifest.js'
import { fetchChunk } from './get.js'
import type { BackupComponents } from './index.js'
import type { CatalogEntry } from './catalog.js'
import type { PeerId } from '@libp2p/interface'

const log = logger('backpack:recover')

export interface RecoveryResult {
  /** Peers that announce this node's holder group */
  holders: number
  /** Of those, the ones that answered */
  answered: number
  /** Backups added to the catalog */
  added: number
}

/**
 * Rebuilds the catalog of a node recovered from its phrase: the peers that
 * announce its holder group in the DHT list the manifests they hold for it;
 * each manifest not in the catalog yet is fetched and opened, and every
 * holder is asked which of the backup's chunks it has, so the new entry
 * knows where its chunks are (and repair does not copy what exists).
 */
export async function recoverCatalog (components: BackupComponents, signal?: AbortSignal): Promise<RecoveryResult> {
  const { client, catalog, groupLookup, cipher } = components
  groupLookup.forget()
  const holders = (await groupLookup.holders(signal)).filter(p => !p.equals(components.peerId))
  const manifests = new Map<string, PeerId[]>()
  const answered: PeerId[] = []
  for (const holder of holders) {
    try {
      for (const cid of await client.manifests(holder, { signal })) {
        manifests.set(cid.toString(), [...(manifests.get(cid.toString()) ?? []), holder])
      }
      answered.push(holder)
    } catch (err: any) {
      signal?.throwIfAborted()
      log('%p did not list its manifests: %s', holder, err.message)
    }
  }
  let added = 0
  for (const [id, manifestHolders] of manifests) {
    if (await catalog.get(id) != null) continue
    let entry: CatalogEntry
    try {
      const sealed = await fetchChunk(components, CID.parse(id), manifestHolders.map(String), 0, signal, undefined, 1)
      entry = decodeManifest(id, cipher.open(sealed))
    } catch (err: any) {
      signal?.throwIfAborted()
      // not one of ours (it does not open), or unavailable for now
      log('manifest %s not recovered: %s', id, err.message)
      continue
    }
    entry.manifest.holders = manifestHolders.map(String)
    const cids = entry.chunks.map(c => CID.parse(c.cid))
    for (const holder of answered) {
      try {
        const have = await client.has(holder, cids, { signal })
        have.forEach((yes, i) => { if (yes) entry.chunks[i].holders.push(holder.toString()) })
      } catch (err: any) {
        signal?.throwIfAborted()
        log('%p did not say which chunks of %s it has: %s', holder, entry.name, err.message)
      }
    }
    await catalog.put(entry)
    added++
    log('recovered %s (%s)', entry.name, id)
  }
  return { holders: holders.length, answered: answered.length, added }
}
