import type { Writable } from 'node:stream';
import type { AlertSink } from './sink.ts';
import { JsonLinesSink } from './jsonl.ts';
import { TableSink } from './table.ts';
import { OcsfSink } from './ocsf/ocsf-sink.ts';

/** The output formats of `--format`; the registry of CLI sinks. `ocsf`: one OCSF 1.7.0 Detection Finding per line (docs/ocsf.md). */
export const OUTPUT_FORMATS = ['jsonl', 'table', 'ocsf'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function createSink(format: OutputFormat, stream: Writable, options: { colour: boolean }): AlertSink {
  switch (format) {
    case 'jsonl':
      return new JsonLinesSink(stream);
    case 'table':
      return new TableSink(stream, options);
    case 'ocsf':
      return new OcsfSink(new JsonLinesSink(stream));
  }
}
