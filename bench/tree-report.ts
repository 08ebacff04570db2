// The tree section's table: backpack and restic side by side, with the
// issue's targets.
import type { Status } from './report.js'

function mib (bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`
}

/** One figure of the tree benchmark: a value, or why there is none. */
export interface Cell {
  status: Status
  value?: number
  note?: string
}

export interface TreeRow {
  /** stable: 'first put', 'unchanged put', 'put after one change', 'restore', 'bytes stored', … */
  name: string
  unit: 's' | 'bytes' | 'chunks' | 'MiB'
  backpack: Cell
  /** absent where restic has no counterpart */
  restic?: Cell
  /** the issue's target: backpack / restic at most `ratio`, or backpack at most `max` */
  target?: { ratio?: number, max?: number }
}

/** The tree benchmark: backpack and restic on the same generated tree, in the same run. */
export interface TreeReport {
  tree: { files: number, dirs: number, symlinks: number, duplicates: number, bytes: number, ms: number }
  smallFiles?: { files: number, bytes: number, ms: number }
  /** `restic version`, or why restic did not run */
  restic: { version?: string, status: Status, note?: string }
  rows: TreeRow[]
  notes: string[]
}

function cellText (c: Cell | undefined, unit: TreeRow['unit']): string {
  if (c == null) return '—'
  if (c.value == null) return `${c.status}${c.note != null ? `: ${c.note}` : ''}`
  const v = unit === 'bytes' ? `${(c.value / 2 ** 20).toFixed(c.value < 10 * 2 ** 20 ? 2 : 1)} MiB` : `${c.value.toFixed(2)} ${unit}`
  return c.status === 'ok' ? v : `${v} (${c.status})`
}

/** backpack / restic when both are measured */
export function treeRatio (r: TreeRow): number | undefined {
  const b = r.backpack
  const s = r.restic
  if (b.status !== 'ok' || b.value == null || s?.status !== 'ok' || s.value == null || s.value <= 0) return undefined
  return b.value / s.value
}

function targetText (r: TreeRow): string {
  const t = r.target
  if (t == null) return ''
  if (t.ratio != null) {
    const ratio = treeRatio(r)
    return `≤ ${t.ratio}x: ${ratio == null ? 'not measured' : ratio <= t.ratio ? 'met' : 'MISSED'}`
  }
  const v = r.backpack.status === 'ok' ? r.backpack.value : undefined
  const limit = `≤ ${t.max ?? 0}${r.unit === 'bytes' ? ' bytes' : ` ${r.unit}`}`
  return `${limit}: ${v == null ? 'not measured' : v <= (t.max ?? 0) ? 'met' : 'MISSED'}`
}

/** The side-by-side table, with the command that produced it. */
export function treeTable (tree: TreeReport, command: string): string {
  const t = tree.tree
  const lines = [
    `tree: backpack vs restic (same tree, same run), from \`${command}\`; ${t.files} files (${t.duplicates} duplicates), ${t.dirs} directories, ${t.symlinks} symbolic links, ${mib(t.bytes)}${tree.smallFiles != null ? `; small-files case ${tree.smallFiles.files} files, ${mib(tree.smallFiles.bytes)}` : ''}; restic: ${tree.restic.version ?? `${tree.restic.status}: ${tree.restic.note ?? ''}`}`,
    '',
    '| case | backpack | restic | backpack / restic | target | notes |',
    '|---|---|---|---|---|---|'
  ]
  for (const r of tree.rows) {
    const ratio = treeRatio(r)
    const notes = [r.backpack.value != null ? r.backpack.note : undefined, r.restic?.value != null && r.restic.note != null ? `restic: ${r.restic.note}` : undefined].filter(n => n != null)
    lines.push(`| ${r.name} | ${cellText(r.backpack, r.unit)} | ${cellText(r.restic, r.unit)} | ${ratio != null ? `${ratio.toFixed(2)}x` : ''} | ${targetText(r)} | ${notes.join('; ')} |`)
  }
  return lines.join('\n')
}
