/**
 * `trailhound serve --store FILE.db [--host 127.0.0.1] [--port 8080] [--rules DIR]...
 * [--no-default-rules] [--tuning FILE] [--vars FILE] [--filters DIR] [--behind-proxy]
 * [--tls-cert FILE --tls-key FILE] [--metrics-port PORT [--metrics-host 127.0.0.1]]`: the triage web UI and HTTP API over the alert store
 * (src/serve/). Runs until SIGINT or SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { located } from '../core/errors.ts';
import { DEFAULT_RULES_DIR } from '../pack/rule-set.ts';
import { openAlertStore } from '../store/index.ts';
import type { AlertStore } from '../store/alert-store.ts';
import { startServe } from '../serve/start.ts';
import { Diagnostics } from './diagnostics.ts';
import { EXIT } from './exit-codes.ts';

interface ServeFlags {
  store: string;
  host: string;
  port: string;
  rules: string[];
  defaultRules: boolean;
  tuning?: string;
  vars?: string;
  filters?: string;
  behindProxy?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  metricsPort?: string;
  metricsHost: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function serveCommand(setExitCode: (code: number) => void): Command {
  return new Command('serve')
    .description('Serve the triage web UI and HTTP API over an alert store (docs/serve.md)')
    .addOption(new Option('--store <file|url>', 'the alert store: a SQLite FILE.db (as written by scan --store or watch) or postgres://user@host/db').makeOptionMandatory())
    .option('--host <address>', 'address to listen on (loopback by default; anything else wants TLS or a proxy)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option('-r, --rules <path>', 'rule file or folder (repeatable); added to the built-in pack', collect, [])
    .option('--no-default-rules', 'leave out the built-in rule pack')
    .option('--tuning <file>', 'tuning file (as for scan)')
    .option('--vars <file>', 'placeholder values for |expand (as for scan)')
    .option('--filters <dir>', 'where "Suppress from this alert" writes its Sigma filters (default: <store dir>/filters)')
    .option('--behind-proxy', 'a TLS-terminating reverse proxy is in front: secure cookies, X-Forwarded-For trusted')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'and this private key (PEM)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on /metrics at this port (no auth; 0: any free port)')
    .option('--metrics-host <address>', 'address for the metrics endpoint', '127.0.0.1')
    .action(async (flags: ServeFlags) => {
      const diagnostics = new Diagnostics({ quiet: false });
      const port = Number(flags.port);
      if (!/^\d{1,5}$/.test(flags.port) || port > 65535) {
        diagnostics.error(located('TH_CONFIG', `--port ${JSON.stringify(flags.port)} is not a port number (0-65535)`, '--port'));
        setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
        return;
      }
      const metricsPort = flags.metricsPort === undefined ? undefined : Number(flags.metricsPort);
      if (flags.metricsPort !== undefined && (!/^\d{1,5}$/.test(flags.metricsPort) || (metricsPort ?? 0) > 65535)) {
        diagnostics.error(located('TH_CONFIG', `--metrics-port ${JSON.stringify(flags.metricsPort)} is not a port number (0-65535)`, '--metrics-port'));
        setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
        return;
      }
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
        diagnostics.error(located('TH_CONFIG', '--tls-cert and --tls-key go together', flags.tlsCert === undefined ? '--tls-key' : '--tls-cert'));
        setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
        return;
      }
      let tls: { key: Buffer; cert: Buffer } | undefined;
      try {
        if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) tls = { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) };
      } catch (error) {
        diagnostics.error(located('TH_CONFIG', `cannot read the TLS files: ${(error as Error).message}`, '--tls-cert'));
        setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
        return;
      }
      let store: AlertStore;
      try {
        store = await openAlertStore(flags.store);
      } catch (error) {
        diagnostics.error(located('TH_STORE_OPEN', (error as Error).message, '--store'));
        setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
        return;
      }
      const paths = [...(flags.defaultRules ? [DEFAULT_RULES_DIR] : []), ...flags.rules];
      let running;
      try {
        running = await startServe({
          store,
          storeFile: flags.store,
          host: flags.host,
          port,
          ruleRequest: { paths, ...(flags.tuning === undefined ? {} : { tuningFile: flags.tuning }), ...(flags.vars === undefined ? {} : { varsFile: flags.vars }) },
          ...(flags.filters === undefined ? {} : { filtersDir: flags.filters }),
          behindProxy: flags.behindProxy === true,
          ...(tls === undefined ? {} : { tls }),
          ...(metricsPort === undefined ? {} : { metrics: { host: flags.metricsHost, port: metricsPort } }),
          write: (line) => process.stderr.write(`${line}\n`),
        });
      } catch (error) {
        await store.close();
        diagnostics.error(located('TH_CONFIG', `cannot start serve: ${(error as Error).message}`, `${flags.host}:${flags.port}`));
        setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
        return;
      }
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          done();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await running.close();
      await store.close();
      setExitCode(EXIT.OK);
    });
}
