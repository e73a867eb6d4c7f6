/**
 * VPC Flow Logs lines carried inside another envelope: a CloudWatch Logs subscription's
 * `logEvents[i].message` (one line each), or the text of a Firehose record. They are
 * header-less, so they use --flow-format when given, else the default version-2 layout, as
 * header-less text does (format.ts). Decoded synchronously by the same byte scanner
 * (line-scan.ts); a malformed line is a TH_INPUT_RECORD at the location the caller gives.
 */
import type { LocatedError } from '../../core/errors.ts';
import type { Envelope, Origin } from '../../core/envelope.ts';
import { DEFAULT_FLOW_HEADER, parseFlowFormat, type FlowHeader } from './fields.ts';
import { FlowLineScanner, type FlowLineView } from './line-scan.ts';

const headers = new Map<string, FlowHeader>();

/** The header for header-less lines: --flow-format (already checked by the CLI), else version 2. */
export function embeddedFlowHeader(flowFormat: string | undefined): FlowHeader {
  if (flowFormat === undefined) return DEFAULT_FLOW_HEADER;
  let header = headers.get(flowFormat);
  if (header === undefined) {
    const parsed = parseFlowFormat(flowFormat);
    header = typeof parsed === 'string' ? DEFAULT_FLOW_HEADER : parsed;
    if (headers.size < 64) headers.set(flowFormat, header);
  }
  return header;
}

function envelopeOf(view: FlowLineView, origin: Origin, fallbackTime: number | undefined): Envelope {
  const start = view.int(view.header.start);
  const time = start === start ? start * 1000 : (fallbackTime ?? NaN);
  return { source: 'vpcflow', time, record: view.record(), origin };
}

/** Decodes flow-log lines pushed one text at a time, each located by the caller. */
export class EmbeddedFlowLines {
  private readonly scanner: FlowLineScanner;
  private location = '';
  private out: Envelope[] = [];
  private nextOrigin: () => Origin = () => ({ uri: '', index: 0 });
  private fallbackTime: number | undefined;
  private readonly visit = (view: FlowLineView): void => {
    this.out.push(envelopeOf(view, this.nextOrigin(), this.fallbackTime));
  };

  /** `onError` receives each malformed line, located where the text being pushed came from. */
  constructor(flowFormat: string | undefined, onError: (error: LocatedError) => void) {
    this.scanner = new FlowLineScanner({
      uri: 'embedded',
      header: embeddedFlowHeader(flowFormat),
      onError: (error) => onError({ ...error, location: this.location }),
    });
  }

  /**
   * The lines of `text` (one or more, LF or CRLF) into `out`; `location` names the text in
   * errors, `nextOrigin` numbers the records, `fallbackTime` (epoch ms) stands in for a
   * missing `start`.
   */
  push(text: string | Buffer, location: string, out: Envelope[], nextOrigin: () => Origin, fallbackTime?: number): void {
    this.location = location;
    this.out = out;
    this.nextOrigin = nextOrigin;
    this.fallbackTime = fallbackTime;
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    this.scanner.push(bytes, this.visit);
    // Each text is whole: its last line ends here, not in the next text.
    this.scanner.end(this.visit);
  }
}
