import { Command } from 'commander';
import { loadWatchConfig } from '../service/config.ts';
import { setUpEngine } from '../service/engine-setup.ts';
import { formatLocatedError } from '../core/errors.ts';
import { displayStoreSpec } from '../store/index.ts';
import { Diagnostics } from './diagnostics.ts';
import { EXIT } from './exit-codes.ts';

export function configCommand(setExitCode: (code: number) => void): Command {
  const command = new Command('config').description('Check service configurations');
  command
    .command('check')
    .description('Validate a watch configuration: its YAML, its rules, filters, vars and feeds (nothing is contacted)')
    .argument('<file>', 'the configuration (trailhound.yml)')
    .action(async (file: string) => {
      setExitCode(await checkConfig(file));
    });
  return command;
}

async function checkConfig(file: string): Promise<number> {
  const diagnostics = new Diagnostics({ quiet: false });
  const { config, errors } = await loadWatchConfig(file);
  for (const error of errors) diagnostics.error(error);
  if (config === undefined) return EXIT.RULE_OR_CONFIG_ERROR;
  const setup = await setUpEngine(config);
  for (const error of setup.errors) diagnostics.error(error);
  for (const warning of setup.warnings) diagnostics.warn(formatLocatedError(warning));
  if (setup.errors.length > 0) return EXIT.RULE_OR_CONFIG_ERROR;
  const sources = config.sources.map((source) => source.name).join(', ');
  const sinks = config.sinks.map((sink) => sink.name).join(', ');
  process.stdout.write(`${file}: ok (${config.sources.length} sources: ${sources}; ${config.sinks.length} sinks: ${sinks}; ${setup.ruleCount} rules, ${setup.correlationCount} correlations; ${config.store === undefined ? `state in ${config.stateDir}` : `state shared in ${displayStoreSpec(config.store)} (a cluster node)`})\n`);
  return EXIT.OK;
}
