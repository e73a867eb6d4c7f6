/**
 * The flow-log fast path of a scan: reads each text flow-log line through the scanner's view
 * instead of a decoded record (DecodeOptions.flowTap). Threat-intel matching runs on the view
 * (FlowCtiMatcher.line); a record is built only for the lines a Sigma flow rule may match
 * (FlowPrefilter), and those go through the rules as any envelope would. Lines outside
 * --since / --until are left out here, since no envelope reaches the scan loop.
 */
import type { Envelope } from '../../core/envelope.ts';
import type { FlowCtiMatcher } from './flow.ts';
import type { FlowPrefilter } from '../prefilter/flow.ts';
import type { TimeRange } from '../../core/time-range.ts';
import type { FlowLineTap } from '../../formats/types.ts';
import type { FlowLineView } from '../../formats/vpcflow/line-scan.ts';

export class FlowTap implements FlowLineTap {
  /** Lines left out by the time range (counted here: they never become envelopes). */
  outsideTimeRange = 0;
  /** Records built for the Sigma rules. */
  recordsBuilt = 0;
  private readonly since: number;
  private readonly until: number;
  private readonly ranged: boolean;

  constructor(
    private readonly cti: FlowCtiMatcher | undefined,
    /** Undefined when no Sigma rule reads flow records. */
    private readonly prefilter: FlowPrefilter | undefined,
    private readonly runRules: (envelope: Envelope) => void,
    range: TimeRange | undefined,
  ) {
    this.since = range?.since ?? Number.NEGATIVE_INFINITY;
    this.until = range?.until ?? Number.POSITIVE_INFINITY;
    this.ranged = range?.since !== undefined || range?.until !== undefined;
  }

  line(view: FlowLineView, uri: string, index: number): void {
    if (this.ranged) {
      const time = view.int(view.header.start) * 1000;
      if (!(time >= this.since && time <= this.until)) {
        this.outsideTimeRange++;
        return;
      }
    }
    this.cti?.line(view, uri);
    if (this.prefilter === undefined || !this.prefilter.mayMatch(view)) return;
    this.recordsBuilt++;
    const start = view.int(view.header.start);
    this.runRules({ source: 'vpcflow', time: start === start ? start * 1000 : Number.NaN, record: view.record(), origin: { uri, index, line: view.line } });
  }
}
