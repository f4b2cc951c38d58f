// Orders a route's candidates for one request: tier by tier, and within a tier a weighted random order,
// so traffic spreads by weight while every candidate stays available as a fallback.
import type { Candidate } from './model-table.js';

export function orderCandidates(candidates: readonly Candidate[], random: () => number = Math.random): Candidate[] {
  if (candidates.length <= 1) return [...candidates];
  const tiers = new Map<number, Candidate[]>();
  for (const candidate of candidates) {
    const tier = tiers.get(candidate.tier);
    if (tier) tier.push(candidate);
    else tiers.set(candidate.tier, [candidate]);
  }
  const ordered: Candidate[] = [];
  for (const tier of [...tiers.keys()].sort((a, b) => a - b)) ordered.push(...weightedShuffle(tiers.get(tier) ?? [], random));
  return ordered;
}

function weightedShuffle(candidates: Candidate[], random: () => number): Candidate[] {
  if (candidates.length === 1) return candidates;
  const remaining = [...candidates];
  const result: Candidate[] = [];
  while (remaining.length > 0) {
    const total = remaining.reduce((sum, candidate) => sum + candidate.weight, 0);
    let pick = 0;
    if (total > 0) {
      let point = random() * total;
      for (pick = 0; pick < remaining.length - 1; pick++) {
        point -= remaining[pick]?.weight ?? 0;
        if (point < 0) break;
      }
    }
    result.push(...remaining.splice(pick, 1));
  }
  return result;
}
