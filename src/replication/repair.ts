import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { newSession } from './placement.js'
import { pieceCount, verifyPiece } from '../chunking/merkle.js'
import { oldestProof } from '../catalog/catalog.js'
import type { Catalog, PackRecord } from '../catalog/catalog.js'
import type { BackpackPeers } from './peers.js'
import type { Placement, PlacementSession } from './placement.js'
import type { PeerId } from '@libp2p/interface'
import type { ProgressFn } from '../util/progress.js'

const log = logger('backpack:repair')

/** How long one holder may take to answer a check. */
export const CHECK_TIMEOUT_MS = 15_000
/** Holders checked at once. */
export const CHECK_CONCURRENCY = 8
/** Time an audit may take beyond CHECK_TIMEOUT_MS, per chunk (the holder reads each whole) */
const AUDIT_MS_PER_CHUNK = 50

/** A copy given to auditSoon is audited this long after (others given meanwhile go with it). */
export const SUSPECT_DELAY_MS = 1000

export interface RepairComponents {
  peerId: PeerId
  peerIdFromString: (id: string) => PeerId
  catalog: Catalog
  peers: BackpackPeers
  placement: Pick<Placement, 'place'>
  /** Which of `cids` does `peer` hold for us; renews our lease on them */
  renew: (peer: PeerId, cids: CID[], signal: AbortSignal) => Promise<boolean[]>
  /** A sealed chunk from these holders (or the DHT's providers) */
  fetch: (cid: CID, holders: string[], signal?: AbortSignal) => Promise<Uint8Array>
  /** A lost holder that may come back: tell it to drop its now surplus copy */
  forget: (holder: string, cids: string[]) => Promise<void>
  /** Ask `peer` for these pieces of these chunks, with their paths (AUDIT) */
  audit: (peer: PeerId, asks: Array<{ cid: CID, piece: number }>, signal: AbortSignal) => Promise<Array<{ piece: Uint8Array, path: Uint8Array[] }>>
}

export interface RepairInit {
  intervalMs: number
  /** A holder unreachable for less than this is not yet counted as lost */
  graceMs: number
  /** Chunks being copied at once */
  maxConcurrent: number
  /**
   * A copy is audited when its last proof is older than this (ms), and
   * every copy in `verify`; a copy that fails is no longer counted
   */
  auditIntervalMs: number
}

/** The audits of one pass: `cid/holder` of the copies that failed, and of those proven (when) */
interface Audits {
  failed: Set<string>
  proven: Map<string, number>
}

/** One pass's checks: holder → the CIDs it confirmed, and the audits */
interface Checks extends Audits {
  confirmed: Map<string, Set<string>>
}

export interface VerifyResult {
  id: string
  replicas: { desired: number, actual: number }
  repaired: number
  /**
   * The oldest last proof of storage among the copies counted (ISO time),
   * or null when some counted copy has none (a chunk known only through
   * recovery) or no copy is counted
   */
  proven: string | null
}

/**
 * The owner's repair loop: asks every holder which of our chunks it still
 * holds (a batched RENEW, which also renews our leases), audits the copies
 * whose last proof is older than the audit interval (all of them in
 * `verify`): a random piece of each with its path to the root kept when the
 * chunk was stored. A copy that is not claimed, or whose proof fails, is
 * not counted: chunks below their desired count are copied to new distinct
 * peers, a bounded number at a time, and a holder whose copy failed is told
 * to drop it. `verify` runs one pass now.
 */
export class Repairer {
  private readonly components: RepairComponents
  private readonly init: RepairInit
  private controller?: AbortController
  private timer?: NodeJS.Timeout
  /** When each holder first failed to answer, cleared when it answers */
  private readonly unreachableSince = new Map<string, number>()
  private running?: Promise<unknown>
  /** Copies to audit soon: chunk → holders (auditSoon) */
  private readonly suspects = new Map<string, Set<string>>()
  private recheckTimer?: NodeJS.Timeout
  private active = 0
  private readonly waiters: Array<() => void> = []
  /** Most chunk copies ever in flight at once (shown by tests) */
  peakConcurrent = 0

  constructor (components: RepairComponents, init: RepairInit) {
    this.components = components
    this.init = init
  }

  start (): void {
    if (this.controller != null) return
    this.controller = new AbortController()
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.pass(undefined, false).catch(err => log.error('repair pass failed %e', err)).finally(() => {
          if (this.controller?.signal.aborted === false) tick()
        })
      }, this.init.intervalMs)
      this.timer.unref()
    }
    tick()
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    clearTimeout(this.recheckTimer)
    this.controller?.abort()
    await this.running?.catch(() => {})
    this.controller = undefined
  }

  /** Check and repair now, without the grace period: what `verify` runs. */
  async verify (ids?: string[], signal?: AbortSignal, onProgress?: ProgressFn): Promise<VerifyResult[]> {
    return this.pass(ids, true, signal, onProgress)
  }

  /**
   * A copy whose last proof no longer holds: one a get found bad (its bytes
   * did not match), or one a holder just handed on to a new holder. It is
   * audited in a check of its chunk alone shortly after (several go
   * together), and replaced and dropped when it fails, as in a repair pass.
   */
  auditSoon (cid: string, holder: string): void {
    if (this.controller == null) return
    const holders = this.suspects.get(cid) ?? new Set<string>()
    this.suspects.set(cid, holders.add(holder))
    this.recheckTimer ??= setTimeout(() => {
      this.recheckTimer = undefined
      const suspects = new Map(this.suspects)
      this.suspects.clear()
      this.exclusive(async () => this.recheck(suspects)).catch(err => log.error('auditing copies whose proof no longer held failed %e', err))
    }, SUSPECT_DELAY_MS)
    this.recheckTimer.unref()
  }

  /** Audit these copies (chunk → holders) now and repair their chunks. */
  private async recheck (suspects: Map<string, Set<string>>): Promise<void> {
    const { catalog } = this.components
    const signal = this.controller?.signal
    const packs: PackRecord[] = []
    let copies = 0
    for (const [cid, holders] of suspects) {
      copies += holders.size
      // their last proof no longer holds: the audit is due
      await catalog.updatePack(cid, p => {
        const proven = { ...p.proven }
        for (const h of holders) delete proven[h]
        return { ...p, proven }
      })
      const pack = await catalog.pack(cid)
      if (pack != null) packs.push(pack)
    }
    log('auditing %d copies whose proof no longer held', copies)
    const checks = await this.askHolders(packs, false, signal)
    const session = newSession()
    await Promise.all(packs.map(async pack => this.repairPack(pack, checks, session, signal)))
  }

  /** One pass over the catalog (or the given backups); passes do not overlap. */
  private async pass (ids: string[] | undefined, force: boolean, signal?: AbortSignal, onProgress?: ProgressFn): Promise<VerifyResult[]> {
    return this.exclusive(async () => this.check(ids, force, signal, onProgress))
  }

  /** Run `fn` when no pass or recheck runs. */
  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    while (this.running != null) await this.running.catch(() => {})
    const run = fn()
    this.running = run
    try {
      return await run
    } finally {
      this.running = undefined
    }
  }

  private async check (ids: string[] | undefined, force: boolean, outer?: AbortSignal, onProgress?: ProgressFn): Promise<VerifyResult[]> {
    const { catalog } = this.components
    const signals = [this.controller?.signal, outer].filter((s): s is AbortSignal => s != null)
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined
    const snapshots = (await catalog.snapshots()).filter(s => ids == null || ids.includes(s.id))
    const needs = new Map<string, string[]>()
    for (const snap of snapshots) needs.set(snap.id, await catalog.needs(snap.id))
    let packs: PackRecord[] = []
    if (ids == null) {
      for await (const pack of catalog.packs()) packs.push(pack)
    } else {
      const wanted = new Set([...needs.values()].flat())
      for (const cid of wanted) {
        const pack = await catalog.pack(cid)
        if (pack != null) packs.push(pack)
      }
    }
    const total = packs.reduce((n, p) => n + p.size, 0)
    onProgress?.({ type: 'backpack:verify:progress', done: 0, total })
    const checks = await this.askHolders(packs, force, signal)
    const session = newSession()
    const live = new Map<string, { count: number, repaired: boolean, proven?: number }>()
    let done = 0
    await Promise.all(packs.map(async pack => {
      live.set(pack.cid, await this.repairPack(pack, checks, session, signal))
      done += pack.size
      onProgress?.({ type: 'backpack:verify:progress', done, total })
    }))
    return snapshots.map(snap => {
      let actual = Infinity
      let repaired = 0
      let proven: number | undefined = Infinity
      for (const cid of needs.get(snap.id) ?? []) {
        const state = live.get(cid)
        actual = Math.min(actual, state?.count ?? 0)
        if (state?.repaired === true) repaired++
        proven = state?.proven == null || proven == null ? undefined : Math.min(proven, state.proven)
      }
      const count = actual === Infinity ? 0 : actual
      return {
        id: snap.id,
        replicas: { desired: snap.replicas, actual: count },
        repaired,
        proven: count > 0 && proven != null && proven !== Infinity ? new Date(proven).toISOString() : null
      }
    })
  }

  /** What each holder confirmed (or is presumed to hold during the grace period), and the audits' outcome. */
  private async askHolders (packs: PackRecord[], force: boolean, signal?: AbortSignal): Promise<Checks> {
    const packsOf = new Map(packs.map(p => [p.cid, p]))
    const byHolder = new Map<string, Set<string>>()
    for (const p of packs) {
      for (const h of p.holders) {
        let set = byHolder.get(h)
        if (set == null) byHolder.set(h, set = new Set())
        set.add(p.cid)
      }
    }
    const confirmed = new Map<string, Set<string>>()
    const audits: Audits = { failed: new Set(), proven: new Map() }
    const holders = [...byHolder.keys()]
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < holders.length) {
        const holder = holders[next++]
        const cids = [...byHolder.get(holder) ?? []]
        try {
          const peer = this.components.peers.get(holder) ?? this.components.peerIdFromString(holder)
          const timeout = AbortSignal.timeout(CHECK_TIMEOUT_MS)
          const have = await this.components.renew(peer, cids.map(c => CID.parse(c)), signal != null ? AbortSignal.any([signal, timeout]) : timeout)
          const held = new Set(cids.filter((_, i) => have[i]))
          this.unreachableSince.delete(holder)
          await this.auditHolder(peer, holder, held, packsOf, audits, force, signal)
          confirmed.set(holder, held)
        } catch (err: any) {
          signal?.throwIfAborted()
          const since = this.unreachableSince.get(holder) ?? Date.now()
          this.unreachableSince.set(holder, since)
          const lost = force || Date.now() - since >= this.init.graceMs
          log('holder %s unreachable (%s)%s', holder, err.message, lost ? '' : ', within the grace period')
          confirmed.set(holder, lost ? new Set() : new Set(cids))
        }
      }
    }
    await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, worker))
    return { confirmed, ...audits }
  }

  /**
   * Audit the copies `holder` claims (`held`) that are due: those it fails
   * leave `held`, are recorded as failed (the holder is told to drop them
   * once the chunk is repaired), and those it proves are recorded proven now.
   */
  private async auditHolder (peer: PeerId, holder: string, held: Set<string>, packsOf: Map<string, PackRecord>, audits: Audits, force: boolean, signal?: AbortSignal): Promise<void> {
    const now = Date.now()
    const due = [...held].map(cid => packsOf.get(cid)).filter((p): p is PackRecord & { root: string } =>
      p?.root != null && (force || now - (p.proven?.[holder] ?? 0) >= this.init.auditIntervalMs))
    if (due.length === 0) return
    const asks = due.map(p => ({ cid: CID.parse(p.cid), piece: Math.floor(Math.random() * pieceCount(p.size)) }))
    let proofs: Array<{ piece: Uint8Array, path: Uint8Array[] }> = []
    try {
      const timeout = AbortSignal.timeout(CHECK_TIMEOUT_MS + due.length * AUDIT_MS_PER_CHUNK)
      proofs = await this.components.audit(peer, asks, signal != null ? AbortSignal.any([signal, timeout]) : timeout)
    } catch (err: any) {
      signal?.throwIfAborted()
      // no answer is no proof, but not a failed one: a copy proven within the
      // interval still counts, an overdue one does not; none is dropped
      log('holder %s answered no audit (%s)', holder, err.message)
      for (const pack of due) if (now - (pack.proven?.[holder] ?? 0) >= this.init.auditIntervalMs) held.delete(pack.cid)
      return
    }
    let failed = 0
    for (const [i, pack] of due.entries()) {
      const proof = proofs[i]
      const ok = proof != null && verifyPiece(Buffer.from(pack.root, 'base64'), pack.size, asks[i].piece, proof.piece, proof.path)
      if (ok) {
        audits.proven.set(`${pack.cid}/${holder}`, now)
      } else {
        held.delete(pack.cid)
        audits.failed.add(`${pack.cid}/${holder}`)
        failed++
      }
    }
    if (failed > 0) log('holder %s failed the audit of %d of %d copies', holder, failed, due.length)
  }

  /** Bring one chunk back to its count where it is below; its live count after. */
  private async repairPack (pack: PackRecord, checks: Checks, session: PlacementSession, signal?: AbortSignal): Promise<{ count: number, repaired: boolean, proven?: number }> {
    const { cid, holders } = pack
    const { confirmed, failed, proven } = checks
    const have = holders.filter(h => confirmed.get(h)?.has(cid) === true)
    let added: string[] = []
    if (have.length < pack.replicas) {
      // never back onto a holder on record: not one whose copy failed its audit
      // (it may keep its bad bytes), nor one unreachable now (it may return)
      added = await this.copy(cid, have.length > 0 ? have : holders, pack.replicas - have.length, new Set(holders), session, signal, pack.kind === 'index' || pack.kind === 'snapshot')
    }
    const live = [...have, ...added]
    // holders that did not answer (a holder that answered "no" is simply dropped)
    const unreachable = holders.filter(h => !have.includes(h) && this.unreachableSince.has(h))
    let next: string[]
    if (live.length >= pack.replicas) {
      // back at the desired count: a lost holder that returns drops its surplus copy
      for (const h of unreachable) await this.components.forget(h, [cid])
      next = live
    } else {
      // still short: keep the unreachable holders on record, their copies count again when they return
      next = [...live, ...unreachable]
    }
    const bad = holders.filter(h => failed.has(`${cid}/${h}`))
    const now = Date.now()
    const times: Record<string, number> = {}
    for (const h of next) {
      const at = proven.get(`${cid}/${h}`) ?? (added.includes(h) ? now : pack.proven?.[h])
      if (at != null) times[h] = at
    }
    if (bad.length > 0 || holders.some(h => proven.has(`${cid}/${h}`)) || added.length > 0 || next.length !== holders.length || next.some((h, i) => h !== holders[i])) {
      await this.components.catalog.updatePack(cid, p => ({ ...p, holders: next, proven: times }))
    }
    // the oldest proof among the copies counted; none when one of them was never proven
    const oldest = oldestProof({ root: pack.root, proven: times }, live)
    // a copy that failed its audit: its holder drops it (it holds nothing good)
    for (const h of bad) await this.components.forget(h, [cid])
    if (added.length > 0) log('repaired %s, now %d/%d', cid, live.length, pack.replicas)
    return { count: live.length, repaired: added.length > 0, proven: oldest }
  }

  /** Copy one chunk to `count` new peers, within the bound on concurrent copies. */
  private async copy (cid: string, sources: string[], count: number, have: Set<string>, session: PlacementSession, signal?: AbortSignal, manifest = false): Promise<string[]> {
    await this.acquire(signal)
    try {
      const parsed = CID.parse(cid)
      const bytes = await this.components.fetch(parsed, sources, signal)
      const exclude = new Set([this.components.peerId.toString(), ...have])
      return await this.components.placement.place(parsed, bytes, count, session, { exclude, signal, manifest })
    } catch (err: any) {
      signal?.throwIfAborted()
      log('cannot repair %s: %s', cid, err.message)
      return []
    } finally {
      this.release()
    }
  }

  private async acquire (signal?: AbortSignal): Promise<void> {
    while (this.active >= this.init.maxConcurrent) {
      signal?.throwIfAborted()
      await new Promise<void>(resolve => this.waiters.push(resolve))
    }
    this.active++
    this.peakConcurrent = Math.max(this.peakConcurrent, this.active)
  }

  private release (): void {
    this.active--
    this.waiters.shift()?.()
  }
}
