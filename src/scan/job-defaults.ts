/** The defaults of `scan --job` (job-scan.ts), apart so that `scan --help` does not load the cluster's code. */
export const DEFAULT_JOB_PARTITIONS = 16;
export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_CLUSTER_RETRY_MS = 120_000;
