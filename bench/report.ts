// The benchmark's results: rows, ratios, the printed table and BENCHMARKS.md.
import { cpus, release, totalmem } from 'node:os'
import { median } from './stats.js'
import { treeTable } from './tree-report.js'
import type { TreeReport } from './tree-report.js'
import { auditTable } from './audit.js'
import type { AuditReport } from './audit.js'

export type Status = 'ok' | 'not available' | 'skipped' | 'failed'

export interface Row {
  /** ceiling | backpack | helia | dht (the tree section has its own table: TreeReport) */
  group: string
  /** e.g. `get r3 256 MiB`; stable keys the test looks for */
  name: string
  unit: 'MB/s' | 'ms'
  /** One value per run */
  runs: number[]
  median: number
  /** Peak RSS in bytes by process role (max over runs) */
  rss: Record<string, number>
  status: Status
  /** Where the time goes, or why a row is missing */
  note?: string
  /** CPU ms per MiB moved, every process of the case, one value per run (when measured) */
  cpu?: number[]
}

export interface Ratio {
  name: string
  value: number
}

export interface Machine {
  cores: number
  cpu: string
  memory: string
  node: string
  os: string
  /** 1-minute load average at the start and at the end of the run */
  load?: { start: number, end: number }
}

/** What one run measured: saved as JSON (--json), rendered as Markdown (--render). */
export interface Report {
  date: string
  command: string
  mode: 'full' | 'quick'
  machine: Machine
  rows: Row[]
  ratios: Ratio[]
  notes: string[]
  /** the tree section (absent when it did not run) */
  tree?: TreeReport
  /** the audit section (absent when it did not run) */
  audit?: AuditReport
}

export function machine (): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    os: `${process.platform} ${release()}`
  }
}

export function row (group: string, name: string, unit: Row['unit'], runs: number[], rss: Record<string, number> = {}, note?: string): Row {
  return { group, name, unit, runs, median: median(runs), rss, status: 'ok', note }
}

export function missing (group: string, name: string, unit: Row['unit'], status: Status, note: string): Row {
  return { group, name, unit, runs: [], median: 0, rss: {}, status, note }
}

/** Ratios of medians, for every pair whose rows both exist */
export function ratios (rows: Row[], sizes: string[]): Ratio[] {
  const get = (name: string): Row | undefined => rows.find(r => r.name === name && r.status === 'ok' && r.median > 0)
  const out: Ratio[] = []
  const add = (name: string, a?: Row, b?: Row): void => {
    if (a != null && b != null) out.push({ name, value: a.median / b.median })
  }
  for (const size of sizes) {
    const ceiling = get(`ceiling ${size}`)
    const helia = get(`helia fetch ${size}`)
    for (const r of [1, 3]) {
      add(`get r${r} / ceiling, ${size}`, get(`get r${r} ${size}`), ceiling)
      add(`put r${r} / ceiling, ${size}`, get(`put r${r} ${size}`), ceiling)
    }
    for (const r of [1, 3]) add(`get r${r} / Helia fetch, ${size}`, get(`get r${r} ${size}`), helia)
  }
  return out
}

export function mib (bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`
}

function fmt (value: number, unit: string): string {
  if (unit === 'ms') return value < 10 ? value.toFixed(2) : value.toFixed(0)
  return value < 10 ? value.toFixed(2) : value.toFixed(1)
}

function rssText (rss: Record<string, number>): string {
  return Object.entries(rss).map(([k, v]) => `${k} ${mib(v)}`).join(', ')
}

/** The results table as Markdown (also what the bench prints). */
export function table (rows: Row[]): string {
  const lines = [
    '| case | median | runs | peak RSS | notes |',
    '|---|---|---|---|---|'
  ]
  for (const r of rows) {
    const value = r.runs.length > 0 ? `${fmt(r.median, r.unit)} ${r.unit}${r.status !== 'ok' ? ` (${r.status})` : ''}` : r.status
    const runs = r.runs.map(v => fmt(v, r.unit)).join(' / ')
    lines.push(`| ${r.name} | ${value} | ${runs} | ${rssText(r.rss)} | ${r.note ?? ''} |`)
  }
  return lines.join('\n')
}

/**
 * CPU per MiB of every row that has it, next to the ceiling's of the same
 * size, and the speed the machine's cores allow at that cost (if every core
 * did nothing else): a case that uses more CPU per byte than the cores can
 * give cannot go faster, however it is pipelined.
 */
export function cpuTable (rows: Row[], cores: number): string {
  const measured = rows.filter(r => r.status === 'ok' && r.cpu != null && r.cpu.length > 0)
  if (measured.length === 0) return '(CPU not measured)'
  const lines = [
    `| case | CPU ms/MiB | x the ceiling's | at most, on ${cores} cores | measured |`,
    '|---|---|---|---|---|'
  ]
  for (const r of measured) {
    const cpu = median(r.cpu ?? [])
    const size = r.name.match(/(\d+ MiB)$/)?.[1]
    const ceiling = measured.find(c => c.group === 'ceiling' && c.name === `ceiling ${size}`)
    const relative = ceiling != null && r !== ceiling ? (cpu / median(ceiling.cpu ?? [])).toFixed(2) : ''
    const bound = cores * 1000 / cpu * 2 ** 20 / 1e6
    lines.push(`| ${r.name} | ${cpu.toFixed(1)} | ${relative} | ${bound.toFixed(0)} MB/s | ${fmt(r.median, r.unit)} ${r.unit} |`)
  }
  return lines.join('\n')
}

export function ratioTable (list: Ratio[]): string {
  if (list.length === 0) return '(no ratios: rows missing)'
  return ['| ratio (medians) | value |', '|---|---|', ...list.map(r => `| ${r.name} | ${r.value.toFixed(2)} |`)].join('\n')
}

/**
 * The "Done when" targets of issue 5, checked against the rows: a line per
 * target saying met, missed (with the figure) or not measured.
 */
export function targets (rows: Row[]): string[] {
  const get = (name: string): Row | undefined => rows.find(r => r.name === name && r.status === 'ok')
  const out: string[] = []
  const check = (label: string, value: number | undefined, limit: number, unit: string, atLeast = true): void => {
    if (value == null || !Number.isFinite(value)) {
      out.push(`${label}: not measured`)
      return
    }
    const met = atLeast ? value >= limit : value <= limit
    out.push(`${label}: ${met ? 'met' : 'MISSED'} (${value.toFixed(2)}${unit})`)
  }
  const ratio = (a?: Row, b?: Row): number | undefined => a != null && b != null && b.median > 0 ? a.median / b.median : undefined
  for (const size of ['256 MiB', '1024 MiB']) {
    for (const r of [1, 3]) {
      check(`get r${r} ${size} >= 5x Helia fetch`, ratio(get(`get r${r} ${size}`), get(`helia fetch ${size}`)), 5, 'x')
      check(`get r${r} ${size} >= 0.5 of the ceiling`, ratio(get(`get r${r} ${size}`), get(`ceiling ${size}`)), 0.5, '')
    }
  }
  for (const size of ['64 MiB', '256 MiB', '1024 MiB']) {
    check(`put r1 ${size} >= 0.5 of the ceiling`, ratio(get(`put r1 ${size}`), get(`ceiling ${size}`)), 0.5, '')
    check(`put r3 ${size} >= 1/3 of the ceiling`, ratio(get(`put r3 ${size}`), get(`ceiling ${size}`)), 1 / 3, '')
  }
  for (const name of ['put r1', 'get r1', 'put r3', 'get r3']) {
    const big = get(`${name} 1024 MiB`)
    const small = get(`${name} 64 MiB`)
    const peak = big != null ? Math.max(...Object.values(big.rss)) : undefined
    check(`${name} 1 GiB: every process's peak RSS < 256 MiB`, peak != null ? peak / 2 ** 20 : undefined, 256, ' MiB', false)
    if (big != null && small != null) {
      const growth = Math.max(...Object.keys(big.rss).map(k => big.rss[k] / (small.rss[k] ?? Infinity)))
      check(`${name} 1 GiB peak RSS <= 1.1x the 64 MiB one (worst process)`, growth, 1.1, 'x', false)
    } else {
      check(`${name} 1 GiB peak RSS <= 1.1x the 64 MiB one`, undefined, 1.1, 'x', false)
    }
  }
  const find = get('findProviders (30 nodes)')
  out.push(`findProviders median on 30 nodes reported: ${find != null ? `yes (${find.median.toFixed(1)} ms)` : 'not measured'}`)
  return out
}

/**
 * The report as Markdown. `analysis` (bench/ANALYSIS.md, written by hand:
 * what the profiles show and what would close the gaps) goes at the end.
 */
export function markdown (report: Report, analysis?: string): string {
  const m = report.machine
  return `# Benchmarks

Written by \`npm run bench\` (bench/bench.ts); see issue 5. Every process on
127.0.0.1 of one machine.

- date: ${report.date}
- command: \`${report.command}\`
- mode: ${report.mode}${report.mode === 'full' ? ' (medians of 3 runs per case)' : ' (one run, small sizes)'}
- machine: ${m.cores} cores (${m.cpu}), ${m.memory} RAM, Node ${m.node}, ${m.os}${m.load != null ? `; load average ${m.load.start.toFixed(2)} at the start, ${m.load.end.toFixed(2)} at the end (other work on the machine makes figures noisy)` : ''}

## Results

${table(report.rows)}

## Ratios

${ratioTable(report.ratios)}

## CPU per MiB

${cpuTable(report.rows, m.cores)}
${report.mode === 'full' ? `
## Targets of issue 5

${targets(report.rows).map(t => `- ${t}`).join('\n')}
` : ''}
${report.tree != null ? `## Tree

${treeTable(report.tree, report.command)}

${report.tree.notes.map(n => `- ${n}`).join('\n')}

` : ''}${report.audit != null ? `## Audits (issue 14)

${auditTable(report.audit)}

${report.audit.notes.map(n => `- ${n}`).join('\n')}

` : ''}## How it is measured

${report.notes.map(n => `- ${n}`).join('\n')}
${analysis != null ? `\n${analysis.trim()}\n` : ''}
`
}
