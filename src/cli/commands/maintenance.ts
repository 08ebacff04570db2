import { ApiClient } from '../../api/client.js'
import { resolveRepoDir } from '../../repo/paths.js'
import { formatSize, parseSize } from '../../util/size.js'
import { EXIT_DEGRADED, ExitCode, UsageError } from '../errors.js'
import { repoOption } from '../program.js'
import { withProgress } from '../progress.js'
import { DURATION_EXPECTED, parseDuration } from '../../util/duration.js'
import type { Command } from 'commander'

/** `--keep-<flag>` options of forget, as restic has them. */
const KEEP_FLAGS = [['last', 'snapshots'], ['hourly', 'hourly snapshots'], ['daily', 'daily snapshots'], ['weekly', 'weekly snapshots'], ['monthly', 'monthly snapshots'], ['yearly', 'yearly snapshots']] as const

export function registerMaintenanceCommands (program: Command): void {
  program.command('rm')
    .description('delete snapshots; chunks no other snapshot uses are removed from every peer')
    .argument('<snap...>', 'snapshots: latest, ids or prefixes of 8 or more characters')
    .addOption(repoOption())
    .action(async (refs: string[], opts: { repo?: string }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const result = await client.call('rm', { refs })
      for (const id of result.removed) process.stdout.write(`removed snapshot ${id}\n`)
      if (result.pending > 0) {
        process.stderr.write(`${result.pending} of ${result.holders} holders are offline: they drop the chunks when they are back\n`)
      }
    })

  const forget = program.command('forget')
    .description('delete the snapshots a retention policy does not keep (per set of sources; the newest is always kept)')
    .addOption(repoOption())
  for (const [flag, what] of KEEP_FLAGS) forget.option(`--keep-${flag} <n>`, `keep the last N ${what}`)
  forget
    .option('--keep-within <duration>', 'keep every snapshot within DURATION of the newest (90s, 36h, 7d, 2w, 6mo, 1y)')
    .option('--dry-run', 'only print what would be removed')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const policy: Record<string, number> = {}
      for (const [flag] of KEEP_FLAGS) {
        const key = `keep${flag[0].toUpperCase()}${flag.slice(1)}`
        const text = opts[key]
        if (text == null) continue
        const n = Number(text)
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid --keep-${flag} ${JSON.stringify(text)}: expected a whole number`)
        policy[key] = n
      }
      if (opts.keepWithin != null) {
        const ms = parseDuration(String(opts.keepWithin))
        if (ms === undefined) throw new UsageError(`invalid --keep-within ${JSON.stringify(opts.keepWithin)}: ${DURATION_EXPECTED}`)
        policy.keepWithin = ms
      }
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo as string | undefined))
      const result = await client.call('forget', { policy: Object.keys(policy).length > 0 ? policy : undefined, dryRun: opts.dryRun === true })
      if (opts.json === true) {
        process.stdout.write(JSON.stringify({ kept: result.kept, removed: result.removed }) + '\n')
        return
      }
      for (const id of result.kept) process.stdout.write(`keep   ${id}  ${(result.reasons[id] ?? []).join(', ')}\n`)
      for (const id of result.removed) process.stdout.write(`${opts.dryRun === true ? 'would remove' : 'removed'} ${id}\n`)
    })

  program.command('verify')
    .description('check the replicas of every chunk and repair those below the desired count')
    .argument('[snap]', 'only this snapshot (latest, an id or a prefix)')
    .addOption(repoOption())
    .option('--json', 'print JSON')
    .action(async (ref: string | undefined, opts: { repo?: string, json?: boolean }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const results = await withProgress<any[]>(client, 'verify', { ref }, opts.json)
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(results) + '\n')
      } else {
        for (const r of results) {
          const proven = r.proven != null ? `, every copy proven since ${String(r.proven).replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : ''
          process.stdout.write(`${r.id} ${r.replicas.actual}/${r.replicas.desired}${r.repaired > 0 ? ` (repaired ${r.repaired} chunks)` : ''}${proven}\n`)
        }
      }
      const below = results.filter(r => r.replicas.actual < r.replicas.desired)
      if (below.length > 0) {
        process.stderr.write(`degraded: ${below.length} snapshot${below.length === 1 ? ' is' : 's are'} below the desired replica count: not enough reachable peers with space, or no good copy left to copy from\n`)
        throw new ExitCode(EXIT_DEGRADED)
      }
    })

  program.command('reclaim')
    .description('lower this node\'s storage limit; chunks beyond it are handed to other peers first')
    .argument('<size>', 'the new limit, e.g. 500MB, 10GiB or 0')
    .addOption(repoOption())
    .action(async (size: string, opts: { repo?: string }) => {
      const limit = parseSize(size)
      if (limit === undefined) throw new UsageError(`invalid size ${JSON.stringify(size)}: expected a byte count or a number with a unit (500MB, 10GiB, 0)`)
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      // a bar of the bytes handed on, on a terminal: a large reclaim takes minutes
      const result = await withProgress<any>(client, 'reclaim', { limit })
      process.stdout.write(`storage limit ${formatSize(result.limit)}, ${formatSize(result.used)} used, ${result.moved} chunks handed to other peers\n`)
    })
}
