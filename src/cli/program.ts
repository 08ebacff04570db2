import { Command, CommanderError, Option } from 'commander'
import { EXIT_USAGE, reportError } from './errors.js'
import { registerNodeCommands } from './commands/node.js'
import { registerRepoCommands } from './commands/repo.js'
import { registerBackupCommands } from './commands/backup.js'
import { registerMaintenanceCommands } from './commands/maintenance.js'

export const repoOption = (): Option => new Option('--repo <dir>', 'the repo directory (default: $BACKPACK_REPO or ~/.backpack)')

export function buildProgram (): Command {
  const program = new Command('backpack')
  program
    .description('peer-to-peer backup: lend spare disk to your peers, back up to theirs')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run backpack --help for usage)')
    .configureOutput({
      writeErr: text => { process.stderr.write(text) }
    })
  registerRepoCommands(program)
  registerNodeCommands(program)
  registerBackupCommands(program)
  registerMaintenanceCommands(program)
  for (const command of program.commands) {
    command.exitOverride().showHelpAfterError(`(run backpack ${command.name()} --help for usage)`)
  }
  return program
}

/** Run the CLI; resolves with the exit code. */
export async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  if (argv.length === 0) {
    program.outputHelp({ error: true })
    return EXIT_USAGE
  }
  try {
    await program.parseAsync(argv, { from: 'user' })
    return process.exitCode as number | undefined ?? 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end with code 0; every parse error is a usage error
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0
      return EXIT_USAGE
    }
    return reportError(err)
  }
}
