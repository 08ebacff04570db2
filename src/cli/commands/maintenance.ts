import type { Command } from 'commander'
export function registerMaintenanceCommands (_program: Command): void {}
