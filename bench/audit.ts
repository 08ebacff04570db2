// What audits (proofs of storage, issue 14) cost and how fast they catch a
// holder that lies: 4 daemons on 127.0.0.1, one snapshot of a random file
// with 2 replicas; `verify` audits every copy once (bytes on the loopback
// interface and CPU of every process, per GiB held); then every copy on one
// holder is zeroed on disk (the files keep their names, so it still says
// "have"), and the time until the owner has it drop them (after the copy
// failed its audit) is measured with a short audit interval.
import { open, readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeRandomFile } from './files.js'
import { du, total } from './fstree.js'
import { Network } from './network.js'
import { MiB } from './stats.js'

export interface AuditPlan {
  /** Size of the file backed up */
  bytes: number
  daemons: number
  /** The owner's replication.auditIntervalMs and repairIntervalMs in the detection run */
  auditIntervalMs: number
  repairIntervalMs: number
}

export interface AuditReport {
  /** Bytes held over every holder (both copies) */
  held: number
  chunks: number
  verify: { ms: number, wireBytes: number, cpuMs: number }
  /** With one audit of each copy a day (the default interval) */
  perGiBDay: { wireBytes: number, cpuMs: number }
  detect: { ms: number, auditIntervalMs: number, repairIntervalMs: number, copies: number } | { failed: string }
  notes: string[]
}

/** Bytes received on the loopback interface so far (every byte sent on it is received on it). */
async function loopbackBytes (): Promise<number> {
  const text = await readFile('/proc/net/dev', 'utf8')
  const line = text.split('\n').find(l => l.trim().startsWith('lo:'))
  if (line == null) throw new Error('no loopback interface in /proc/net/dev')
  return Number(line.split(':')[1].trim().split(/\s+/)[0])
}

async function chunkFiles (repo: string): Promise<string[]> {
  const root = join(repo, 'chunks')
  const out: string[] = []
  for (const shard of await readdir(root).catch(() => [])) {
    if (shard === 'tmp') continue
    for (const name of await readdir(join(root, shard)).catch(() => [])) out.push(join(root, shard, name))
  }
  return out
}

/** Zero every byte of a file in place (its name and size stay). */
async function zero (path: string): Promise<void> {
  const { size } = await stat(path)
  const file = await open(path, 'r+')
  try {
    await file.write(Buffer.alloc(size), 0, size, 0)
  } finally {
    await file.close()
  }
}

const sum = (xs: Array<number | undefined>): number => xs.reduce<number>((a, x) => a + (x ?? 0), 0)

/** The report's table: what audits cost, and how fast one caught a lying holder. */
export function auditTable (r: AuditReport): string {
  const GiB = 1024 * MiB
  const lines = [
    '| | value | notes |',
    '|---|---|---|',
    `| held | ${(r.held / MiB).toFixed(1)} MiB | ${r.chunks} chunk files over the holders (2 copies) |`,
    `| verify (one audit of every copy) | ${(r.verify.ms / 1000).toFixed(2)} s | ${(r.verify.wireBytes / MiB).toFixed(2)} MiB over loopback, ${r.verify.cpuMs.toFixed(0)} ms of CPU |`,
    `| audit traffic per GiB held per day | ${(r.perGiBDay.wireBytes / MiB).toFixed(2)} MiB | ${(100 * r.perGiBDay.wireBytes / GiB).toFixed(2)} % of the bytes held |`,
    `| audit CPU per GiB held per day | ${(r.perGiBDay.cpuMs / 1000).toFixed(2)} s | every process (holders read and hash what they hold) |`
  ]
  if ('failed' in r.detect) lines.push(`| time to catch a lying holder | failed | ${r.detect.failed} |`)
  else lines.push(`| time to catch a lying holder | ${(r.detect.ms / 1000).toFixed(1)} s | ${r.detect.copies} zeroed copies all dropped; their audits fall due after ${r.detect.auditIntervalMs / 1000} s (the audit interval) and are run by the next repair pass (every ${r.detect.repairIntervalMs / 1000} s), which makes each failed copy again on another peer before it tells the holder to drop it |`)
  return lines.join('\n')
}

export async function auditSection (plan: AuditPlan, tmp: string, log: (line: string) => void): Promise<AuditReport> {
  const notes: string[] = []
  const network = new Network(join(tmp, 'audit-network'), '100GiB')
  const file = join(tmp, 'audit.bin')
  try {
    log(`audits: ${plan.daemons} daemons, a ${plan.bytes / MiB} MiB snapshot with 2 replicas`)
    await network.start(plan.daemons, i => i === 0 ? { replication: { auditIntervalMs: plan.auditIntervalMs, repairIntervalMs: plan.repairIntervalMs } } : undefined)
    const owner = network.daemons[0]
    await writeRandomFile(file, plan.bytes)
    const put = await network.cli(owner, ['put', file, '--replicas', '2', '--json'])
    if (put.code !== 0) throw new Error(`put failed: ${put.stderr.trim()}`)
    const holders = network.daemons.slice(1)
    const held = total(await Promise.all(holders.map(async d => du(join(d.repo, 'chunks')))))

    // one audit of every copy, as `verify` does it
    const cpu0 = await network.cpu()
    const wire0 = await loopbackBytes()
    const verify = await network.cli(owner, ['verify', '--json'])
    const wire = await loopbackBytes() - wire0
    const cpu = sum(await network.cpu()) - sum(cpu0) + (verify.cpuMs ?? 0)
    if (verify.code !== 0) throw new Error(`verify exited ${verify.code}: ${verify.stderr.trim()}`)
    const provenAt = Date.now()
    const GiB = 1024 * MiB
    const perGiBDay = { wireBytes: wire / (held.bytes / GiB), cpuMs: cpu / (held.bytes / GiB) }
    notes.push(`verify audits every copy once and checks every replica count (the repair pass's batched check per holder); its loopback bytes include the CLI's API call and the DHT's background traffic, its CPU that of the CLI and of the ${plan.daemons} daemons. Per GiB held per day: with the default replication.auditIntervalMs (1 day) each copy is audited about once a day, so one verify's cost per GiB held is the daily cost.`)

    // a liar: every copy on the holder with the most is zeroed, names kept
    const counts = await Promise.all(holders.map(async d => (await chunkFiles(d.repo)).length))
    const liar = holders[counts.indexOf(Math.max(...counts))]
    const files = await chunkFiles(liar.repo)
    for (const path of files) await zero(path)
    log(`audits: ${files.length} copies zeroed on one holder; waiting for the owner to catch it`)
    const deadline = provenAt + plan.auditIntervalMs + 10 * plan.repairIntervalMs + 60_000
    let detect: AuditReport['detect'] = { failed: 'the zeroed copies were still on the holder at the deadline' }
    const names = new Set(files)
    while (Date.now() < deadline) {
      const left = (await chunkFiles(liar.repo)).filter(f => names.has(f))
      if (left.length === 0) {
        detect = { ms: Date.now() - provenAt, auditIntervalMs: plan.auditIntervalMs, repairIntervalMs: plan.repairIntervalMs, copies: files.length }
        break
      }
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    notes.push('Detection: from the end of that verify (when every copy was last proven) until the holder whose copies were zeroed has been told to drop all of them; a copy is audited once its last proof is older than replication.auditIntervalMs, in the next repair pass (every replication.repairIntervalMs); the time past those two is the pass itself: auditing, copying the failed chunks to other peers, then the delete.')
    return { held: held.bytes, chunks: held.files, verify: { ms: verify.ms, wireBytes: wire, cpuMs: cpu }, perGiBDay, detect, notes }
  } finally {
    await network.stop()
  }
}
