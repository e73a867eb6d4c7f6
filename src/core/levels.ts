/** Alert and rule levels, lowest first, and their order (Sigma's five levels). */
export type SigmaLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';

export const SIGMA_LEVELS: readonly SigmaLevel[] = ['informational', 'low', 'medium', 'high', 'critical'];

/** informational 0 ... critical 4. */
export function levelRank(level: SigmaLevel): number {
  return SIGMA_LEVELS.indexOf(level);
}

/** The level of a rank, clamped to the five levels. */
export function levelOfRank(rank: number): SigmaLevel {
  return SIGMA_LEVELS[Math.max(0, Math.min(SIGMA_LEVELS.length - 1, rank))] as SigmaLevel;
}

export function levelAtLeast(level: SigmaLevel, threshold: SigmaLevel): boolean {
  return levelRank(level) >= levelRank(threshold);
}
