// Placeholder until the retention policy lands.
export interface RetentionPolicy { keepLast?: number, keepHourly?: number, keepDaily?: number, keepWeekly?: number, keepMonthly?: number, keepYearly?: number, keepWithin?: number }
export interface PolicySnapshot { id: string, created: number, sources: string[] }
export interface PolicyDecision { keep: Array<{ id: string, reasons: string[] }>, remove: string[] }
export function isEmptyPolicy (policy: RetentionPolicy): boolean {
  return Object.values(policy).every(v => v == null)
}
export function applyRetention (snapshots: PolicySnapshot[], policy: RetentionPolicy): PolicyDecision {
  const groups = new Map<string, PolicySnapshot[]>()
  for (const s of snapshots) {
    const key = JSON.stringify([...s.sources].sort())
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  const keep: PolicyDecision['keep'] = []
  const remove: string[] = []
  for (const list of groups.values()) {
    list.sort((a, b) => b.created - a.created)
    list.forEach((s, i) => {
      if (isEmptyPolicy(policy) || i === 0 || i < (policy.keepLast ?? 0)) keep.push({ id: s.id, reasons: ['last snapshot'] })
      else remove.push(s.id)
    })
  }
  return { keep, remove }
}
