// The tree section of the bench: one generated tree backed up by restic and
// by backpack (contract v2, on a local network of daemons) in the same run,
// phase by phase so both see the same tree; then backpack alone on a 100 byte
// insertion into a large file and on many small files.
import { mkdir, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { writeRandomFile } from './files.js'
import { compareTrees } from './fstree.js'
import { Network } from './network.js'
import { findRestic, ResticRepo } from './restic.js'
import { changeOneFile, insertInMiddle, smallFilesTree, writeTree } from './tree.js'
import { BackpackTree } from './tree-backpack.js'
import { MiB } from './stats.js'
import type { Usage } from './fstree.js'
import type { BackpackRun } from './tree-backpack.js'
import type { ResticRun } from './restic.js'
import type { Cell, TreeReport, TreeRow } from './tree-report.js'
import type { TreeSpec } from './tree.js'

const CHUNK = 2 * MiB
const REPLICAS = 2

export interface TreePlan {
  tree: TreeSpec
  /** size of the file that gets 100 bytes inserted in its middle */
  insertion: number
  smallFiles: number
  daemons: number
  /** apt-get install restic when missing (full mode) */
  installRestic: boolean
}

/** Run `fn`; a thrown error becomes a failed cell (the bench goes on). */
async function cell<T> (fn: () => Promise<T>, value: (t: T) => number, note?: (t: T) => string | undefined): Promise<Cell & { result?: T }> {
  try {
    const result = await fn()
    return { status: 'ok', value: value(result), note: note?.(result), result }
  } catch (err) {
    return { status: 'failed', note: (err as Error).message }
  }
}

const skipped = (why: string): Cell => ({ status: 'failed', note: why })
const rssNote = (r: BackpackRun): string => `peak RSS cli ${mb(r.rss.cli)}, owner ${mb(r.rss.owner)}, peers max ${mb(r.rss['peers max'])}`
const mb = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`
const perReplica = (before: Usage, after: Usage): number => (after.disk - before.disk) / REPLICAS

export async function treeSection (plan: TreePlan, tmp: string, log: (m: string) => void): Promise<TreeReport> {
  const dir = join(tmp, 'tree')
  const src = join(dir, 'home')
  log(`tree: writing ${plan.tree.files} files`)
  const tree = await writeTree(src, plan.tree)
  log(`tree: ${tree.files} files, ${tree.dirs} dirs, ${tree.symlinks} links, ${mb(tree.bytes)} in ${(tree.ms / 1000).toFixed(1)} s`)
  const report: TreeReport = { tree, restic: { status: 'ok' }, rows: [], notes: [] }

  const found = findRestic(plan.installRestic, log)
  const restic = found.tool != null ? new ResticRepo(found.tool, join(dir, 'restic')) : undefined
  report.restic = found.tool != null ? { status: 'ok', version: found.tool.version } : { status: 'skipped', note: found.reason }
  let resticDown = restic == null ? (found.reason ?? 'restic missing') : undefined
  if (restic != null) await restic.init().catch((err: Error) => { resticDown = err.message })
  const resticCell = async (fn: (repo: ResticRepo) => Promise<ResticRun>): Promise<Cell & { result?: ResticRun }> => {
    if (resticDown != null || restic == null) return { status: report.restic.status === 'ok' ? 'failed' : 'skipped', note: resticDown ?? 'restic missing' }
    const c = await cell(async () => fn(restic), r => r.ms / 1000, r => r.summary != null ? `added ${r.summary.data_added} bytes` : undefined)
    if (c.status !== 'ok') resticDown = 'an earlier restic command failed (see the first failed row)'
    return c
  }

  const network = new Network(join(dir, 'network'), '1000GiB')
  try {
    log(`tree: starting ${plan.daemons} backpack daemons`)
    let backpackDown: string | undefined
    await network.start(plan.daemons).catch((err: Error) => { backpackDown = `the daemons did not start: ${err.message}` })
    const bp = new BackpackTree(network, REPLICAS)
    // once a put fails (e.g. the CLI does not speak contract v2 yet), the later backpack cases are not run
    const backpackCell = async (fn: () => Promise<BackpackRun>, note: (r: BackpackRun) => string, value = (r: BackpackRun) => r.ms / 1000): Promise<Cell & { result?: BackpackRun }> => {
      if (backpackDown != null) return skipped(`not run: ${backpackDown}`)
      const c = await cell(fn, value, r => [note(r), r.degraded].filter(n => n != null && n !== '').join('; '))
      if (c.status !== 'ok') backpackDown = 'an earlier backpack command failed (see the first failed row)'
      return c
    }
    const row = (name: string, unit: TreeRow['unit'], backpack: Cell, resticCell?: Cell, target?: TreeRow['target']): void => {
      const { result: _, ...b } = backpack as Cell & { result?: unknown }
      report.rows.push({ name, unit, backpack: b, restic: resticCell, target })
    }

    log('tree: first backup')
    const r1 = await resticCell(async r => r.backup(src))
    const empty = await bp.stores()
    const b1 = await backpackCell(async () => bp.put(src), r => `added ${r.put?.added ?? 0} bytes; ${rssNote(r)}`)
    const stored = await bp.stores()
    row('first put', 's', b1, r1, { ratio: 2 })

    log('tree: unchanged backup')
    const r2 = await resticCell(async r => r.backup(src))
    const b2 = await backpackCell(async () => bp.put(src), r => `added ${r.put?.added ?? 0} bytes; ${rssNote(r)}`)
    const afterUnchanged = await bp.stores()
    row('unchanged put', 's', b2, r2, { ratio: 1 })
    row('holders\' storage delta, unchanged put', 'bytes',
      b2.status === 'ok' ? { status: 'ok', value: afterUnchanged.disk - stored.disk, note: `${afterUnchanged.files - stored.files} chunk files` } : skipped('no unchanged put'),
      undefined, { max: 0 })

    log('tree: backup after one change')
    const changed = await changeOneFile(src)
    const r3 = await resticCell(async r => r.backup(src))
    const b3 = await backpackCell(async () => bp.put(src), r => `added ${r.put?.added ?? 0} bytes; ${rssNote(r)}`)
    row('put after one change', 's', b3, r3, { ratio: 1 })
    report.notes.push(`The one change: ${changed.slice(src.length + 1)} rewritten with new text of the same size and a new mtime.`)

    log('tree: restore')
    const resticOut = join(dir, 'restic-out')
    const r4 = await resticCell(async repo => {
      const r = await repo.restore(resticOut)
      const diff = await compareTrees(src, join(resticOut, src))
      if (diff != null) throw new Error(`restored tree differs: ${diff}`)
      return r
    })
    await rm(resticOut, { recursive: true, force: true })
    const bpOut = join(dir, 'backpack-out')
    const latest = b3.result?.put?.id ?? ''
    const b4 = await backpackCell(async () => {
      const r = await bp.get(latest, bpOut)
      const diff = await compareTrees(src, join(bpOut, basename(src)))
      if (diff != null) throw new Error(`restored tree differs: ${diff}`)
      return r
    }, rssNote)
    await rm(bpOut, { recursive: true, force: true })
    row('restore', 's', b4, r4, { ratio: 1.5 })

    const resticSize: Cell = resticDown == null && restic != null
      ? await cell(async () => ({ du: await restic.size(), stats: await restic.stats() }), r => r.du.disk,
        r => `apparent ${mb(r.du.bytes)}; ${compression(r1.result?.summary?.data_added, r.stats.total_size)}`)
      : skipped(resticDown ?? 'restic missing')
    row('bytes stored', 'bytes', b1.status === 'ok'
      ? { status: 'ok', value: perReplica(empty, stored), note: `per replica: du of every daemon's chunks/ after the first put, less before, / ${REPLICAS}; apparent ${mb((stored.bytes - empty.bytes) / REPLICAS)}, ${stored.files - empty.files} chunk files` }
      : skipped('no first put'), resticSize, { ratio: 1.25 })

    await rm(src, { recursive: true, force: true })
    await insertion(plan, dir, bp, backpackCell, row, log)
    await smallFiles(plan, dir, bp, backpackCell, row, report, log)
  } finally {
    await network.stop()
    await rm(dir, { recursive: true, force: true })
  }
  report.notes.push(...methodNotes(plan))
  return report
}

type BackpackCell = (fn: () => Promise<BackpackRun>, note: (r: BackpackRun) => string, value?: (r: BackpackRun) => number) => Promise<Cell & { result?: BackpackRun }>
type AddRow = (name: string, unit: TreeRow['unit'], backpack: Cell, restic?: Cell, target?: TreeRow['target']) => void

/** Put a random file, insert 100 bytes in its middle, put it again: what did the second put add? */
async function insertion (plan: TreePlan, dir: string, bp: BackpackTree, backpackCell: BackpackCell, row: AddRow, log: (m: string) => void): Promise<void> {
  log(`tree: 100 bytes inserted into ${mb(plan.insertion)}`)
  const file = join(dir, 'insert', 'big.bin')
  await rm(dirname(file), { recursive: true, force: true })
  await mkdir(dirname(file), { recursive: true })
  await writeRandomFile(file, plan.insertion)
  const first = await backpackCell(async () => bp.put(file), rssNote)
  let second: Cell = skipped('no first put')
  if (first.status === 'ok') {
    await insertInMiddle(file, 100)
    second = await backpackCell(async () => bp.put(file), r => `added ${r.put?.added ?? 0} bytes to a ${mb(plan.insertion)} file (chunks' worth = added / ${mb(CHUNK)})`, r => (r.put?.added ?? 0) / CHUNK)
  } else second = first
  row(`insertion: 2nd put added (${mb(plan.insertion)} file)`, 'chunks', second, undefined, { max: 4 })
  await rm(dirname(file), { recursive: true, force: true })
}

/** Many small files: put and get, and the peak RSS of the owner and the CLI. */
async function smallFiles (plan: TreePlan, dir: string, bp: BackpackTree, backpackCell: BackpackCell, row: AddRow, report: TreeReport, log: (m: string) => void): Promise<void> {
  log(`tree: writing ${plan.smallFiles} small files`)
  const src = join(dir, 'small')
  const stats = await smallFilesTree(src, plan.smallFiles)
  report.smallFiles = stats
  const put = await backpackCell(async () => bp.put(src), rssNote)
  const out = join(dir, 'small-out')
  const get = put.status === 'ok'
    ? await backpackCell(async () => {
      const r = await bp.get(put.result?.put?.id ?? '', out)
      const diff = await compareTrees(src, join(out, basename(src)))
      if (diff != null) throw new Error(`restored tree differs: ${diff}`)
      return r
    }, rssNote)
    : skipped('no put')
  row(`small files: put (${plan.smallFiles})`, 's', put)
  row(`small files: get (${plan.smallFiles})`, 's', get)
  const runs = [put, get].map(c => (c as { result?: BackpackRun }).result).filter(r => r != null)
  const peak = Math.max(0, ...runs.flatMap(r => [r.rss.owner, r.rss.cli]))
  row(`small files: peak RSS, owner and CLI (${plan.smallFiles})`, 'MiB',
    runs.length === 2 ? { status: 'ok', value: peak / MiB, note: runs.map(r => `owner ${mb(r.rss.owner)}, cli ${mb(r.rss.cli)}`).join(' / ') + ' (put / get)' } : skipped('no put and get'),
    undefined, { max: 256 })
  await rm(src, { recursive: true, force: true })
  await rm(out, { recursive: true, force: true })
}

/** restic's zstd on this tree: the unique data of the first backup against the blobs stored for it. */
function compression (unique: number | undefined, stored: number): string {
  return unique != null && stored > 0 ? `unique data ${mb(unique)} stored as ${mb(stored)} of blobs: zstd ${(unique / stored).toFixed(2)}x` : ''
}

function methodNotes (plan: TreePlan): string[] {
  return [
    `tree: bench/tree.ts writes a seeded tree (${plan.tree.files} files of 1-64 KiB, log-uniform, text from a fixed vocabulary with numbers; directories of 10-50 entries up to 4 levels, 1 in 30 empty; 5 % duplicates; 1 % relative symbolic links and 2 dangling ones; large files ${plan.tree.large.map(l => `${mb(l.size)} ${l.kind === 'text' ? 'text' : 'random'}`).join(', ')}).`,
    `backpack: ${plan.daemons} daemons on 127.0.0.1 (--no-mdns); \`put TREE --replicas ${REPLICAS} --json\` from node 0, three times (first, unchanged, after one change), then \`get <id of the last put> -o OUT --json\`; restored trees are compared with the source (paths, types, permission bits, SHA-256, link targets). Bytes stored are du (allocated blocks) of every daemon's chunks/.`,
    'restic: a local repository (format version 2, zstd) in the temp dir, RESTIC_CACHE_DIR there too, GOMAXPROCS unset; `backup TREE --json --quiet` three times (restic finds the parent by path), `restore latest --target OUT --quiet`; bytes stored are du of the repository. Times are the wall clock of each command.'
  ]
}
