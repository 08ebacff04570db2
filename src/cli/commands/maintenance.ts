import { ApiClient } from '../../api/client.js'
import { resolveRepoDir } from '../../repo/paths.js'
import { formatSize, parseSize } from '../../util/size.js'
import { EXIT_DEGRADED, ExitCode, UsageError } from '../errors.js'
import { repoOption } from '../program.js'
import { withProgress } from '../progress.js'
import type { Command } from 'commander'

export function registerMaintenanceCommands (program: Command): void {
  program.command('rm')
    .description('delete a backup from every peer that holds it')
    .argument('<ref>', 'backup id or name (the newest of that name)')
    .addOption(repoOption())
    .action(async (ref: string, opts: { repo?: string }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const result = await client.call('rm', { ref })
      process.stdout.write(`removed ${result.id} ${result.name}\n`)
      if (result.pending > 0) {
        process.stderr.write(`${result.pending} of ${result.holders} holders are offline: they drop the chunks when they are back\n`)
      }
    })

  program.command('verify')
    .description('check every chunk\'s replicas and repair those below the desired count')
    .argument('[ref]', 'only this backup (id or name)')
    .addOption(repoOption())
    .option('--json', 'print JSON')
    .action(async (ref: string | undefined, opts: { repo?: string, json?: boolean }) => {
      const client = await ApiClient.forRepo(resolveRepoDir(opts.repo))
      const results = await withProgress<any[]>(client, 'verify', { ref }, opts.json)
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(results) + '\n')
      } else {
        for (const r of results) {
          process.stdout.write(`${r.id} ${r.name} ${r.replicas.actual}/${r.replicas.desired}${r.repaired > 0 ? ` (repaired ${r.repaired} chunks)` : ''}\n`)
        }
      }
      const below = results.filter(r => r.replicas.actual < r.replicas.desired)
      if (below.length > 0) {
        process.stderr.write(`degraded: ${below.length} backup${below.length === 1 ? ' is' : 's are'} below the desired replica count: not enough reachable peers with space\n`)
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
