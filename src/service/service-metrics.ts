/** The metrics `watch` exposes on /metrics (docs/service.md lists them), on a Registry of its own. */
import { Metrics } from './metrics.ts';

export interface LiveReadings {
  /** Newest event time processed, epoch ms. */
  newestEventTime(): number | undefined;
  /** Age of the last notification when its object was processed, seconds. */
  lastNotificationAge(): number | undefined;
  outboxPending(): { sink: string; count: number }[];
  correlationGroups(): number;
  inFlightMessages(): number;
  /** A cluster node: whether it is the one deciding correlations now (absent on one process). */
  deciding?(): boolean;
}

/** Time spent on one object, start to commit (or skip, or failure), seconds. */
export const OBJECT_DURATION = 'trailhound_object_duration_seconds';

export function serviceMetrics(readings: LiveReadings, now: () => number = Date.now): Metrics {
  const metrics = new Metrics();
  metrics.counter('trailhound_objects_total', 'Objects handled, by source and outcome (processed, skipped, failed, poisoned, interrupted).', ['source', 'outcome']);
  metrics.counter('trailhound_object_bytes_total', 'Bytes of the objects processed (as stored: compressed when they are), by source.', ['source']);
  metrics.counter('trailhound_records_total', 'Log records decoded, by source.', ['source']);
  metrics.counter('trailhound_alerts_total', 'New alerts committed, by rule and level.', ['rule', 'level']);
  metrics.counter('trailhound_errors_total', 'Errors by stage: receive, message, fetch, decode, ack, sink, state.', ['stage']);
  metrics.counter('trailhound_messages_total', 'SQS messages, by source and outcome (deleted, released, retry, test_event, ignored, unrecognized).', ['source', 'outcome']);
  metrics.counter('trailhound_deliveries_total', 'Alert deliveries, by sink and outcome (delivered, dead_lettered).', ['sink', 'outcome']);
  metrics.counter('trailhound_cluster_parts_decided_total', 'Cluster: objects\' undecided parts this node absorbed as the decider.', []);
  metrics.histogram(OBJECT_DURATION, 'Time to handle one object (read, decode, detect, commit), by source and outcome, seconds.', ['source', 'outcome']);
  metrics.gauge('trailhound_lag_seconds', 'Now minus the newest event time processed.', [], () => {
    const newest = readings.newestEventTime();
    return newest === undefined ? [] : [{ labels: {}, value: Math.max(0, (now() - newest) / 1000) }];
  });
  metrics.gauge('trailhound_notification_age_seconds', 'Age of the last notification (SQS sent time, or file mtime) when its object was processed.', [], () => {
    const age = readings.lastNotificationAge();
    return age === undefined ? [] : [{ labels: {}, value: age }];
  });
  metrics.gauge('trailhound_outbox_pending', 'Alerts committed but not yet delivered, by sink.', ['sink'], () => readings.outboxPending().map((item) => ({ labels: { sink: item.sink }, value: item.count })));
  metrics.gauge('trailhound_correlation_groups', 'Live correlation groups (open windows).', [], () => [{ labels: {}, value: readings.correlationGroups() }]);
  if (readings.deciding !== undefined) {
    const deciding = readings.deciding;
    metrics.gauge('trailhound_cluster_deciding', 'Cluster: 1 while this node decides correlations (one node at a time, by lease).', [], () => [{ labels: {}, value: deciding() ? 1 : 0 }]);
  }
  metrics.gauge('trailhound_inflight_messages', 'SQS messages received and not yet deleted or released.', [], () => [{ labels: {}, value: readings.inFlightMessages() }]);
  return metrics;
}
