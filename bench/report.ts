// The benchmark's results: rows, ratios, the printed table and BENCHMARKS.md.
import { cpus, release, totalmem } from 'node:os'
import { median } from './stats.js'

export type Status = 'ok' | 'not available' | 'skipped' | 'failed'

export interface Row {
  /** ceiling | backpack | helia | dht */
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
}

export interface Report {
  date: string
  command: string
  mode: 'full' | 'quick'
  machine: Machine
  rows: Row[]
  ratios: Ratio[]
  notes: string[]
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
    const value = r.status === 'ok' ? `${fmt(r.median, r.unit)} ${r.unit}` : r.status
    const runs = r.runs.map(v => fmt(v, r.unit)).join(' / ')
    lines.push(`| ${r.name} | ${value} | ${runs} | ${rssText(r.rss)} | ${r.note ?? ''} |`)
  }
  return lines.join('\n')
}

export function ratioTable (list: Ratio[]): string {
  if (list.length === 0) return '(no ratios: rows missing)'
  return ['| ratio (medians) | value |', '|---|---|', ...list.map(r => `| ${r.name} | ${r.value.toFixed(2)} |`)].join('\n')
}

export function markdown (report: Report): string {
  const m = report.machine
  return `# Benchmarks

Written by \`npm run bench\` (bench/bench.ts); see issue 5. Every process on
127.0.0.1 of one machine.

- date: ${report.date}
- command: \`${report.command}\`
- mode: ${report.mode}${report.mode === 'full' ? ' (medians of 3 runs per case)' : ' (one run, small sizes)'}
- machine: ${m.cores} cores (${m.cpu}), ${m.memory} RAM, Node ${m.node}, ${m.os}

## Results

${table(report.rows)}

## Ratios

${ratioTable(report.ratios)}

## How it is measured

${report.notes.map(n => `- ${n}`).join('\n')}
`
}
