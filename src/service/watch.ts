/**
 * `trailhound watch`: the long-running service. Start: load rules and feeds, open the state
 * (restoring correlation windows), reconcile the sinks and send what a previous run committed
 * but did not deliver, then run every source. Stop: stop polling, let the object being read
 * finish (or interrupt it after the grace period), hand back the messages not started, deliver
 * what is pending, close the state.
 */
import type { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { formatLocatedError, located, TrailhoundError } from '../core/errors.ts';
import { createS3Client } from '../sources/s3-client.ts';
import { createSqsClient, regionOfQueueUrl, SqsQueue } from '../sources/sqs-queue.ts';
import type { AwsClientOptions } from '../sources/source.ts';
import { StateStore } from '../store/state-store.ts';
import { StoreError } from '../store/alert-store.ts';
import type { WatchState } from '../store/watch-state.ts';
import { PgWatchState } from '../store/cluster/pg-watch-state.ts';
import { NodeRegistry, newNodeId } from '../store/cluster/node-registry.ts';
import { WatchDecider } from './cluster/decider.ts';
import { NodeEngine } from './cluster/node-engine.ts';
import type { WatchEngine } from './watch-engine.ts';
import type { WatchConfig } from './config.ts';
import { createTarget } from './delivery-targets.ts';
import { EngineHost } from './engine-host.ts';
import { setUpEngine } from './engine-setup.ts';
import { FolderRunner } from './folder-runner.ts';
import { JsonLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import type { MetricsServer } from './metrics-server.ts';
import { Mutex } from './mutex.ts';
import { ObjectProcessor } from './object-processor.ts';
import { Outbox } from './outbox.ts';
import { PoisonFile } from './poison-file.ts';
import type { RunnerContext } from './runner-context.ts';
import { serviceMetrics } from './service-metrics.ts';
import { SqsRunner } from './sqs-runner.ts';

export interface WatchOptions {
  logger?: Logger;
  /** Where the stdout sink writes (tests). */
  stdout?: Writable;
  /** Overrides the configuration's metrics endpoint. */
  metrics?: { port: number; host: string };
  s3ClientFor?: (options: AwsClientOptions) => S3Client;
  sqsClientFor?: (options: AwsClientOptions) => SQSClient;
  /** First backoff of webhook retries, ms (tests shorten it). */
  httpBaseDelayMs?: number;
  /** How often undelivered alerts are retried and old state pruned, ms. */
  housekeepingMs?: number;
  /** `--reset-state`: a damaged state is moved aside and a new one started, instead of refused. */
  resetState?: boolean;
  /** A cluster node's name (`store: postgres://`; default host:pid:random). */
  node?: string;
}

/** How often a cluster node reports to cluster_nodes (`trailhound cluster status`). */
const HEARTBEAT_MS = 5000;

/** A test hook's duration from the environment (ms), when set to a positive number. */
function testMs(name: string): number | undefined {
  const value = Number(process.env[name] ?? '');
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** A cluster node's parts: its shared state, the decider it runs, its entry in the node registry. */
interface ClusterParts {
  state: PgWatchState;
  decider: WatchDecider;
  registry: NodeRegistry;
  heartbeat: NodeJS.Timeout;
}

/** How long shutdown waits for the object being read before interrupting it. */
export const SHUTDOWN_GRACE_MS = 20_000;

export class WatchService {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The metrics endpoint's port, when serving. */
  readonly metricsPort: number | undefined;
  /** This node's name in the cluster (undefined on one process). */
  readonly node: string | undefined;
  private readonly store: WatchState;
  private readonly cluster: ClusterParts | undefined;
  private readonly processor: ObjectProcessor;
  private readonly outbox: Outbox;
  private readonly stopController: AbortController;
  private readonly abortController: AbortController;
  private readonly running: Promise<void>;
  private readonly metricsServer: MetricsServer | undefined;
  private readonly housekeeping: NodeJS.Timeout;
  /** Resources to close at the end, in reverse order of opening. */
  private readonly closers: { close(): Promise<void> }[];
  private stopped: Promise<void> | undefined;

  private constructor(parts: {
    logger: Logger;
    metrics: Metrics;
    store: WatchState;
    cluster: ClusterParts | undefined;
    processor: ObjectProcessor;
    outbox: Outbox;
    stopController: AbortController;
    abortController: AbortController;
    running: Promise<void>;
    metricsServer: MetricsServer | undefined;
    housekeeping: NodeJS.Timeout;
    closers: { close(): Promise<void> }[];
  }) {
    this.logger = parts.logger;
    this.metrics = parts.metrics;
    this.store = parts.store;
    this.cluster = parts.cluster;
    this.node = parts.cluster?.state.node;
    this.processor = parts.processor;
    this.outbox = parts.outbox;
    this.stopController = parts.stopController;
    this.abortController = parts.abortController;
    this.running = parts.running;
    this.metricsServer = parts.metricsServer;
    this.metricsPort = parts.metricsServer?.port;
    this.housekeeping = parts.housekeeping;
    this.closers = parts.closers;
  }

  /** Starts the service; throws a TrailhoundError (TH_CONFIG, TH_RULE_*, TH_STATE_OPEN, TH_STATE_DAMAGED...) when it cannot. */
  static async start(config: WatchConfig, options: WatchOptions = {}): Promise<WatchService> {
    const logger = options.logger ?? new JsonLogger({ level: config.logLevel });
    const setup = await setUpEngine(config, (message) => logger.warn(message));
    for (const warning of setup.warnings) logger.located('warn', warning);
    if (setup.errors.length > 0) {
      for (const error of setup.errors) logger.located('error', error);
      const first = setup.errors[0];
      throw new TrailhoundError(first ?? located('TH_CONFIG', 'rules could not be loaded', config.file));
    }

    let store: WatchState;
    let sqlite: StateStore | undefined;
    let shared: PgWatchState | undefined;
    if (config.store !== undefined) {
      try {
        // Tests only: shorter leases, so that a killed node's sinks and decisions move on sooner.
        shared = await PgWatchState.open(config.store, options.node ?? newNodeId(), testMs('TRAILHOUND_TEST_WATCH_LEASE_MS'));
      } catch (error) {
        if (error instanceof StoreError) throw new TrailhoundError(located('TH_STORE_OPEN', error.message, `${config.file}: store`));
        throw error;
      }
      store = shared;
    } else {
      sqlite = StateStore.open(config.stateDir, { resetState: options.resetState === true });
      if (sqlite.reset !== undefined) {
        logger.warn('the state was damaged: moved aside, starting with a new state (every object is read again)', { damaged: sqlite.reset.movedTo, reason: sqlite.reset.reason });
      }
      store = sqlite;
    }
    const opened: { close(): Promise<void> }[] = [];
    let cluster: ClusterParts | undefined;
    try {
      let engine: WatchEngine;
      let localEngine: EngineHost | undefined;
      if (sqlite !== undefined) {
        localEngine = new EngineHost(setup.build, logger);
        localEngine.restoreFrom(sqlite);
        engine = localEngine;
      } else {
        engine = new NodeEngine(setup.buildNode);
      }
      const sqsRunners: SqsRunner[] = [];
      const poison = new PoisonFile(config.stateDir);
      // Read by the metrics at scrape time, set below.
      const live: { processor?: ObjectProcessor; outbox?: Outbox; decider?: WatchDecider } = {};
      const metrics = serviceMetrics({
        newestEventTime: () => live.processor?.newestEventTime,
        lastNotificationAge: () => live.processor?.lastNotificationAge,
        outboxPending: () => live.outbox?.pending() ?? [],
        correlationGroups: () => (localEngine === undefined ? (live.decider?.liveGroups() ?? 0) : (localEngine.detector.correlationStats()?.liveGroups ?? 0)),
        inFlightMessages: () => sqsRunners.reduce((sum, runner) => sum + runner.inFlight, 0),
        ...(shared === undefined ? {} : { deciding: () => live.decider?.deciding === true }),
      });
      const targets = config.sinks.map((sink) =>
        createTarget(sink, {
          onDeadLetter: (error) => {
            metrics.inc('trailhound_errors_total', { stage: 'sink' });
            logger.located('error', error);
          },
          ...(options.httpBaseDelayMs === undefined ? {} : { httpBaseDelayMs: options.httpBaseDelayMs }),
          ...(options.stdout === undefined ? {} : { stdout: options.stdout }),
        }),
      );
      const delivery = new Outbox(store, targets, logger, metrics);
      live.outbox = delivery;
      opened.push({ close: () => delivery.close() });
      await delivery.start();
      const batchDelay = testMs('TRAILHOUND_TEST_OBJECT_DELAY_MS');
      const processor = new ObjectProcessor({ store, engine, logger, metrics, poison, ...(batchDelay === undefined ? {} : { batchDelayMs: batchDelay }) });
      live.processor = processor;

      const endpoint = options.metrics ?? config.metrics;
      const metricsServer = endpoint === undefined ? undefined : await startMetricsServer(metrics, endpoint.host, endpoint.port);
      if (metricsServer !== undefined) opened.push(metricsServer);

      if (shared !== undefined) {
        const state = shared;
        const decider = new WatchDecider({ state, build: setup.build, logger, metrics, onAlerts: () => void delivery.flush() });
        live.decider = decider;
        const registry = new NodeRegistry(state.store, state.node);
        await registry.register('watch', undefined, metricsServer === undefined ? undefined : `http://${endpoint?.host ?? '127.0.0.1'}:${metricsServer.port}/metrics`);
        const beat = (): void => void registry.beat(processor.beat(sqsRunners.reduce((sum, runner) => sum + runner.inFlight, 0))).catch(() => undefined);
        // Tests only: a faster heartbeat, so that a killed node shows as silent sooner.
        const heartbeat = setInterval(beat, testMs('TRAILHOUND_TEST_HEARTBEAT_MS') ?? HEARTBEAT_MS);
        heartbeat.unref();
        cluster = { state, decider, registry, heartbeat };
        decider.start();
      }

      const stopController = new AbortController();
      const abortController = new AbortController();
      const ctx: RunnerContext = { processor, mutex: new Mutex(), outbox: delivery, logger, metrics, poison, stopping: stopController.signal, aborting: abortController.signal };

      // What a previous run committed and did not deliver goes out first.
      const pending = (await delivery.pending()).reduce((sum, item) => sum + item.count, 0);
      if (pending > 0) logger.info('delivering alerts left from a previous run', { alerts: pending });
      await delivery.flush(true);

      const s3Clients = new Map<string, S3Client>();
      const s3For = (aws: WatchConfig['aws']): S3Client => {
        const clientOptions: AwsClientOptions = {
          ...(aws.region === undefined ? {} : { region: aws.region }),
          ...(aws.profile === undefined ? {} : { profile: aws.profile }),
          ...(aws.s3EndpointUrl === undefined ? {} : { endpointUrl: aws.s3EndpointUrl }),
        };
        const key = JSON.stringify(clientOptions);
        let client = s3Clients.get(key);
        if (client === undefined) {
          client = options.s3ClientFor?.(clientOptions) ?? createS3Client(clientOptions);
          s3Clients.set(key, client);
        }
        return client;
      };
      const runners: Promise<void>[] = [];
      for (const source of config.sources) {
        if (source.type === 'sqs') {
          const sqsOptions: AwsClientOptions = {
            region: source.aws.region ?? regionOfQueueUrl(source.queueUrl) ?? 'us-east-1',
            ...(source.aws.profile === undefined ? {} : { profile: source.aws.profile }),
            // The queue URL's host is the endpoint (what the SDK would pick, without its warning for non-standard hosts).
            endpointUrl: source.aws.sqsEndpointUrl ?? new URL(source.queueUrl).origin,
          };
          const client = options.sqsClientFor?.(sqsOptions) ?? createSqsClient(sqsOptions);
          opened.push({ close: async () => client.destroy() });
          const queue = new SqsQueue(client, { queueUrl: source.queueUrl, visibilityTimeoutS: source.visibilityTimeoutS, waitTimeS: source.waitTimeS, maxMessages: source.maxMessages });
          const runner = new SqsRunner(source, queue, s3For(source.aws), ctx);
          sqsRunners.push(runner);
          runners.push(guard(runner.run(), source.name, logger));
        } else {
          runners.push(guard(new FolderRunner(source, ctx).run(), source.name, logger));
        }
      }
      opened.push({ close: async () => s3Clients.forEach((client) => client.destroy()) });

      const housekeeping = setInterval(() => {
        void delivery.flush();
        void (async () => {
          try {
            const pruned = await store.prune(config.retentionMs);
            if (pruned.objects + pruned.alerts > 0) logger.debug('pruned old state', pruned);
          } catch (error) {
            logger.warn('pruning the state failed', { error: (error as Error).message });
          }
        })();
      }, options.housekeepingMs ?? 5000);
      housekeeping.unref();

      logger.info('watching', {
        sources: config.sources.length,
        sinks: config.sinks.length,
        rules: setup.ruleCount,
        correlations: setup.correlationCount,
        ...(shared === undefined ? { state_dir: config.stateDir } : { store: shared.where, node: shared.node }),
        ...(metricsServer === undefined ? {} : { metrics_port: metricsServer.port }),
      });
      return new WatchService({ logger, metrics, store, cluster, processor, outbox: delivery, stopController, abortController, running: Promise.all(runners).then(() => undefined), metricsServer, housekeeping, closers: opened });
    } catch (error) {
      if (cluster !== undefined) {
        clearInterval(cluster.heartbeat);
        await cluster.decider.stop();
      }
      for (const item of opened.reverse()) await item.close().catch(() => undefined);
      await store.close();
      throw error;
    }
  }

  /** Graceful stop; resolves once the state is flushed and closed. Safe to call twice. */
  stop(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopped ??= this.shutdown(graceMs);
    return this.stopped;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.logger.info('stopping: no new messages; finishing the object in progress');
    this.stopController.abort();
    clearInterval(this.housekeeping);
    const grace = setTimeout(() => this.abortController.abort(), graceMs);
    try {
      await this.running;
    } finally {
      clearTimeout(grace);
    }
    if (this.cluster !== undefined) {
      // The last decision commits; the lease goes to another node at once.
      clearInterval(this.cluster.heartbeat);
      await this.cluster.decider.stop();
    }
    const caughtUp = await this.outbox.flush(true);
    if (!caughtUp) this.logger.warn(this.cluster === undefined ? 'some alerts are still undelivered; they stay in the state and are sent at the next start' : 'some alerts are still undelivered; they stay in the shared state and another node (or the next start) sends them');
    if (this.cluster !== undefined) {
      await this.cluster.state.releaseSinks().catch(() => undefined);
      await this.cluster.registry.stopped(this.processor.beat(0)).catch(() => undefined);
    }
    for (const item of [...this.closers].reverse()) {
      try {
        await item.close();
      } catch (error) {
        this.logger.warn('a resource did not close cleanly', { error: (error as Error).message });
      }
    }
    await this.store.close();
    this.logger.info('stopped');
  }
}

/** A source runner that crashes is logged, not fatal to the others. */
async function guard(run: Promise<void>, source: string, logger: Logger): Promise<void> {
  try {
    await run;
  } catch (error) {
    const located = error instanceof TrailhoundError ? formatLocatedError(error.toLocated()) : (error as Error).stack ?? String(error);
    logger.error('source stopped after an unexpected error', { source, error: located });
  }
}
