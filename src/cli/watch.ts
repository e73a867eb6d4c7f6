import { Command } from 'commander';
import { located, TrailhoundError } from '../core/errors.ts';
import { loadWatchConfig } from '../service/config.ts';
import { JsonLogger, LOG_LEVELS } from '../service/logger.ts';
import type { LogLevel } from '../service/logger.ts';
import type { WatchService } from '../service/watch.ts';
import { EXIT } from './exit-codes.ts';

interface WatchFlags {
  config: string;
  metricsPort?: string;
  metricsHost?: string;
  logLevel?: string;
  resetState: boolean;
}

export function watchCommand(setExitCode: (code: number) => void): Command {
  return new Command('watch')
    .description('Run as a service: read new logs from SQS notifications and folders, and deliver alerts to sinks (docs/service.md); with store: postgres://... in the configuration, one node of a cluster sharing the queue and the state (docs/cluster.md)')
    .requiredOption('-c, --config <file>', 'the service configuration (trailhound.yml)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on /metrics at this port')
    .option('--metrics-host <host>', 'address for the metrics endpoint (default 127.0.0.1)')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')} (default: the configuration's, or info)`)
    .option('--reset-state', 'when the state database is damaged (TH_STATE_DAMAGED), move it aside as <file>.damaged-<time> and start afresh: every object is read again', false)
    .action(async (flags: WatchFlags) => {
      setExitCode(await runWatch(flags));
    });
}

async function runWatch(flags: WatchFlags): Promise<number> {
  // The service and the AWS SDK load here, not with every other command.
  const [{ WatchService }, { quietSdkNodeWarning }] = await Promise.all([import('../service/watch.ts'), import('../sources/s3-client.ts')]);
  quietSdkNodeWarning();
  const bootstrap = new JsonLogger({ level: 'info' });
  const { config, errors } = await loadWatchConfig(flags.config);
  for (const error of errors) bootstrap.located('error', error);
  if (config === undefined) return EXIT.RULE_OR_CONFIG_ERROR;
  if (flags.logLevel !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) {
      bootstrap.located('error', located('TH_CONFIG', `--log-level must be one of ${LOG_LEVELS.join(', ')}`, '--log-level'));
      return EXIT.RULE_OR_CONFIG_ERROR;
    }
    config.logLevel = flags.logLevel as LogLevel;
  }
  let metrics = config.metrics;
  if (flags.metricsPort !== undefined) {
    const port = Number(flags.metricsPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      bootstrap.located('error', located('TH_CONFIG', '--metrics-port must be a port number', '--metrics-port'));
      return EXIT.RULE_OR_CONFIG_ERROR;
    }
    metrics = { port, host: flags.metricsHost ?? config.metrics?.host ?? '127.0.0.1' };
  } else if (flags.metricsHost !== undefined && metrics !== undefined) {
    metrics = { ...metrics, host: flags.metricsHost };
  }

  const logger = new JsonLogger({ level: config.logLevel });
  let service: WatchService;
  try {
    service = await WatchService.start(config, { logger, resetState: flags.resetState, ...(metrics === undefined ? {} : { metrics }) });
  } catch (error) {
    if (error instanceof TrailhoundError) {
      logger.located('error', error.toLocated());
      return EXIT.RULE_OR_CONFIG_ERROR;
    }
    throw error;
  }

  // SIGTERM (ECS, Kubernetes, systemd) or SIGINT (Ctrl-C): a graceful stop; a second one: now.
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) {
        logger.warn('second signal: exiting without finishing', { signal });
        process.exit(130);
      }
      logger.info('signal received', { signal });
      void service.stop().then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return EXIT.OK;
}
