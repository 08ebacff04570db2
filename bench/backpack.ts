// backpack `put` and `get` of one file through the CLI against a local
// network (see network.ts): MB/s of each command (wall clock, as a user sees
// it) and the peak RSS of the CLI and of every daemon during it.
import { rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { hashFile, writeRandomFile } from './files.js'
import { mbps } from './stats.js'
import type { Network } from './network.js'

/** CLI exit code for an unknown command (CONTRACT.md) */
const EXIT_USAGE = 2
/** CLI exit code for "backed up, but below the desired replicas" */
const EXIT_DEGRADED = 3
const COMMAND_TIMEOUT_MS = 60 * 60_000

export interface PhaseRun {
  mbps: number
  ms: number
  /** Peak RSS of the CLI process, bytes */
  cliRss: number
  /** Peak RSS of each daemon during the command, bytes; index 0 is the owner */
  daemonRss: number[]
  /** CPU ms of the CLI and every daemon during the command; undefined when not measured */
  cpuMs?: number
}

export interface BackpackRuns {
  /** 'failed' when some run failed; the runs that worked are still listed */
  status: 'ok' | 'not available' | 'failed'
  /** Why runs failed, and degraded puts */
  notes: string[]
  put: PhaseRun[]
  get: PhaseRun[]
  /** Actual replicas reported by put, per run */
  replicas: number[]
}

/**
 * `runs` rounds of: a fresh random file (so nothing is deduplicated), put
 * it from node 0 with `--replicas`, get it back, compare the bytes.
 */
export async function measureBackpack (network: Network, dir: string, bytes: number, replicas: number, runs: number): Promise<BackpackRuns> {
  const result: BackpackRuns = { status: 'ok', notes: [], put: [], get: [], replicas: [] }
  const fail = (note: string): void => {
    result.status = 'failed'
    result.notes.push(note)
  }
  const owner = network.daemons[0]
  for (let run = 0; run < runs; run++) {
    const file = join(dir, `file-${bytes}-r${replicas}-${run}.bin`)
    const out = join(dir, `out-${bytes}-r${replicas}-${run}.bin`)
    try {
      const sha = await writeRandomFile(file, bytes)

      await network.resetPeaks()
      let cpu = await network.cpu()
      const put = await network.cli(owner, ['put', file, '--replicas', String(replicas), '--json'], COMMAND_TIMEOUT_MS)
      const putRss = await network.peaks()
      const putCpu = cpuUsed(cpu, await network.cpu(), put.cpuMs)
      if (put.code === EXIT_USAGE) {
        return { ...result, status: 'not available', notes: [`backpack put exited 2: ${firstLine(put.stderr)}`] }
      }
      if (put.code !== 0 && put.code !== EXIT_DEGRADED) {
        fail(`put ${run + 1} exited ${put.code}: ${firstLine(put.stderr)}`)
        continue
      }
      const entry = JSON.parse(put.stdout) as { id: string, size: number, replicas: { actual: number } }
      result.put.push({ mbps: mbps(bytes, put.ms), ms: put.ms, cliRss: put.peakRss, daemonRss: putRss, cpuMs: putCpu })
      result.replicas.push(entry.replicas.actual)
      if (put.code === EXIT_DEGRADED) result.notes.push(`put ${run + 1} ${firstLine(put.stderr)}`)

      await network.resetPeaks()
      cpu = await network.cpu()
      // the snapshot holds the file under its base name
      const get = await network.cli(owner, ['get', `${entry.id}:${basename(file)}`, '-o', out, '--force', '--json'], COMMAND_TIMEOUT_MS)
      const getRss = await network.peaks()
      const getCpu = cpuUsed(cpu, await network.cpu(), get.cpuMs)
      if (get.code !== 0) {
        fail(`get ${run + 1} exited ${get.code}: ${firstLine(get.stderr)}`)
        continue
      }
      if (await hashFile(out) !== sha) {
        fail(`get ${run + 1} returned different bytes`)
        continue
      }
      result.get.push({ mbps: mbps(bytes, get.ms), ms: get.ms, cliRss: get.peakRss, daemonRss: getRss, cpuMs: getCpu })
    } finally {
      await rm(file, { force: true })
      await rm(out, { force: true })
    }
  }
  return result
}

/** CPU ms of the daemons between two readings, plus the CLI's; undefined when any is unknown */
function cpuUsed (before: Array<number | undefined>, after: Array<number | undefined>, cli?: number): number | undefined {
  if (cli == null || [...before, ...after].some(v => v == null)) return undefined
  return cli + after.reduce<number>((sum, a, i) => sum + (a ?? 0) - (before[i] ?? 0), 0)
}

function firstLine (text: string): string {
  return text.trim().split('\n')[0] ?? ''
}
