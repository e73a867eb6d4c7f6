/** The log sources trailhound reads; also the Sigma `logsource.service` values under `product: aws`. */
export type LogSourceName = 'cloudtrail' | 'vpcflow' | 'guardduty';

/** Where a record came from: the input's URI and the record's position in it. */
export interface Origin {
  uri: string;
  /** 0-based index of the record within its input unit, counting every record decoded. */
  index: number;
  /** 1-based line of the input the record started on, when the format is line-oriented. */
  line?: number;
}

/** A JSON object as AWS wrote it. Rules read it unchanged, by dotted path. */
export type LogRecord = Record<string, unknown>;

/**
 * The only wrapper around a record (docs/architecture.md, Data flow): no normalised copy, just what the engine
 * needs to route, order and locate it.
 */
export interface Envelope {
  source: LogSourceName;
  /** Event time in epoch milliseconds (CloudTrail `eventTime`); NaN when the record has none. */
  time: number;
  record: LogRecord;
  origin: Origin;
}
