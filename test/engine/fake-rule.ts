import type { CompiledDetectionRule } from '../../src/sigma/types.ts';
import type { CidrNetwork } from '../../src/sigma/cidr.ts';
import type { SigmaLevel } from '../../src/core/levels.ts';
import type { LogRecord } from '../../src/core/envelope.ts';
import type { Envelope } from '../../src/core/envelope.ts';

/** A hand-built compiled rule, so engine tests do not depend on the Sigma compiler. */
export function fakeRule(options: {
  id: string;
  name?: string;
  level?: SigmaLevel;
  service?: string;
  product?: string;
  tags?: string[];
  requiredValues?: Record<string, string[]>;
  requiredSubstrings?: Record<string, Array<{ text: string; caseSensitive: boolean }>>;
  requiredCidrs?: Record<string, CidrNetwork[]>;
  match: (record: LogRecord) => boolean;
}): CompiledDetectionRule {
  return {
    kind: 'detection',
    id: options.id,
    ...(options.name === undefined ? {} : { name: options.name }),
    title: options.name ?? options.id,
    level: options.level ?? 'medium',
    tags: options.tags ?? [],
    falsepositives: [],
    references: [],
    position: { file: `${options.id}.yml`, line: 1, col: 1 },
    logsource: { product: options.product ?? 'aws', ...(options.service === undefined ? {} : { service: options.service }) },
    match: options.match,
    requiredValues: new Map(Object.entries(options.requiredValues ?? {}).map(([field, values]) => [field, new Set(values)])),
    requiredSubstrings: new Map(Object.entries(options.requiredSubstrings ?? {})),
    requiredCidrs: new Map(Object.entries(options.requiredCidrs ?? {})),
    fields: [],
    source: {},
  };
}

export function cloudTrailEnvelope(record: LogRecord, index = 0): Envelope {
  const time = typeof record.eventTime === 'string' ? Date.parse(record.eventTime) : Number.NaN;
  return { source: 'cloudtrail', time, record, origin: { uri: 'test.json', index } };
}
