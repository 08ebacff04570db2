// `npm run bench -- --quick` runs end to end, so the benchmark cannot rot:
// every row is there with positive numbers. No timing thresholds.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { tempDir } from '../helpers/cli.js'

const BENCH = fileURLToPath(new URL('../../bench/bench.js', import.meta.url))
const BENCHMARKS_MD = fileURLToPath(new URL('../../../BENCHMARKS.md', import.meta.url))
const QUICK_TIMEOUT_MS = 5 * 60_000

interface Cell { status: string, value?: number, note?: string }
interface TreeReport { tree: { files: number }, restic: { status: string, version?: string }, rows: Array<{ name: string, backpack: Cell, restic?: Cell }> }
interface Row { group: string, name: string, unit: string, runs: number[], median: number, rss: Record<string, number>, status: string, note?: string, cpu?: number[] }
interface AuditReport { held: number, perGiBDay: { wireBytes: number, cpuMs: number }, detect: { ms: number, auditIntervalMs: number, repairIntervalMs: number } | { failed: string } }

async function run (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGTERM'), QUICK_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

async function mtime (path: string): Promise<number | undefined> {
  return stat(path).then(s => s.mtimeMs, () => undefined)
}

describe('bench --quick', { timeout: QUICK_TIMEOUT_MS + 30_000 }, () => {
  it('measures every case and writes only where it is told', async () => {
    const dir = await tempDir('backpack-bench-test-')
    const before = await mtime(BENCHMARKS_MD)
    try {
      const out = join(dir, 'bench.md')
      const json = join(dir, 'bench.json')
      const result = await run(['--quick', '--out', out, '--json', json])
      assert.equal(result.code, 0, result.stderr)

      const report = JSON.parse(await readFile(json, 'utf8')) as { mode: string, rows: Row[], ratios: Array<{ name: string, value: number }>, tree?: TreeReport, audit?: AuditReport }
      assert.equal(report.mode, 'quick')
      const rows = new Map(report.rows.map(r => [r.name, r]))
      const measured = (name: string): Row => {
        const r = rows.get(name)
        assert.ok(r != null, `row ${name} missing: ${[...rows.keys()].join(', ')}`)
        assert.equal(r.status, 'ok', `${name}: ${r.status} ${r.note ?? ''}`)
        assert.ok(r.runs.length > 0 && r.runs.every(v => v > 0), `${name}: runs ${r.runs.join(',')}`)
        assert.ok(r.median > 0, `${name}: median ${r.median}`)
        return r
      }

      const cpuMeasured = (r: Row): void => {
        assert.ok(r.cpu != null && r.cpu.length === r.runs.length && r.cpu.every(v => v > 0), `${r.name}: CPU per MiB ${r.cpu?.join(',')}`)
      }
      const ceiling = measured('ceiling 8 MiB')
      assert.ok(ceiling.rss.receiver > 0 && ceiling.rss.sender > 0)
      cpuMeasured(ceiling)
      for (const name of ['put r1 8 MiB', 'get r1 8 MiB', 'put r3 8 MiB', 'get r3 8 MiB']) {
        const r = measured(name)
        assert.equal(r.unit, 'MB/s')
        for (const role of ['cli', 'owner', 'peers max']) assert.ok(r.rss[role] > 0, `${name}: RSS of ${role}`)
        // with /usr/bin/time the CLI's CPU is known, and with it the case's
        if (existsSync('/usr/bin/time')) cpuMeasured(r)
      }
      measured('provide (10 nodes)')
      measured('findProviders (10 nodes)')
      // Helia runs in quick mode only when bench/helia is installed
      for (const name of ['helia add 8 MiB', 'helia fetch 8 MiB']) {
        const r = rows.get(name)
        assert.ok(r != null, `row ${name} missing`)
        if (r.status !== 'skipped') measured(name)
      }

      const ratios = new Map(report.ratios.map(r => [r.name, r.value]))
      for (const name of ['get r1 / ceiling, 8 MiB', 'put r1 / ceiling, 8 MiB', 'get r3 / ceiling, 8 MiB', 'put r3 / ceiling, 8 MiB']) {
        assert.ok((ratios.get(name) ?? 0) > 0, `ratio ${name}`)
      }

      // the tree section: every row there, each measured or failed with a reason
      // (the backpack side fails until the CLI speaks contract v2); restic's real when installed
      const tree = report.tree
      assert.ok(tree != null, 'tree section missing')
      assert.ok(tree.tree.files >= 500, `tree of ${tree.tree.files} files`)
      for (const name of ['first put', 'unchanged put', 'put after one change', 'restore', 'bytes stored']) {
        const r: TreeReport['rows'][number] | undefined = tree.rows.find(x => x.name === name)
        assert.ok(r != null, `tree row ${name} missing`)
        for (const c of [r.backpack, r.restic]) {
          assert.ok(c != null && (c.status === 'ok' ? (c.value ?? -1) >= 0 : c.note != null), `tree ${name}: ${JSON.stringify(c)}`)
        }
        if (tree.restic.status === 'ok') assert.equal(r.restic?.status, 'ok', `tree ${name} restic: ${r.restic?.note ?? ''}`)
      }

      // the audit section: a verify's cost per GiB held, and a lying holder caught within its bound
      const audit = report.audit
      assert.ok(audit != null, 'audit section missing')
      assert.ok(audit.held > 8 * 1024 * 1024, `held ${audit.held} bytes (two copies of 8 MiB)`)
      assert.ok(audit.perGiBDay.wireBytes > 0 && audit.perGiBDay.cpuMs > 0)
      assert.ok(!('failed' in audit.detect), `the liar was not caught: ${JSON.stringify(audit.detect)}`)
      if (!('failed' in audit.detect)) assert.ok(audit.detect.ms <= audit.detect.auditIntervalMs + 10 * audit.detect.repairIntervalMs + 30_000, `caught after ${audit.detect.ms} ms`)

      const md = await readFile(out, 'utf8')
      assert.match(md, /## Audits \(issue 14\)/)
      assert.match(md, /\| time to catch a lying holder \| [\d.]+ s \|/)
      assert.match(md, /tree: backpack vs restic \(same tree, same run\)/)
      assert.match(md, /\| put r3 8 MiB \| [\d.]+ MB\/s \|/)
      assert.match(md, /\| findProviders \(10 nodes\) \| [\d.]+ ms \|/)
      assert.match(md, /\| ceiling 8 MiB \| [\d.]+ \|  \| \d+ MB\/s \| [\d.]+ MB\/s \|/)
      assert.match(md, /command: `node dist\/bench\/bench\.js --quick/)
      assert.match(result.stdout, /\| get r1 \/ ceiling, 8 MiB \| [\d.]+ \|/)
      assert.equal(await mtime(BENCHMARKS_MD), before, 'quick mode must not touch BENCHMARKS.md')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
