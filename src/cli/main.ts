import { Command, CommanderError } from 'commander';
import { scanCommand } from './scan.ts';
import { rulesCommand } from './rules.ts';
import { intelCommand } from './intel.ts';
import { watchCommand } from './watch.ts';
import { configCommand } from './config.ts';
import { tokensCommand } from './tokens.ts';
import { serveCommand } from './serve.ts';
import { alertsCommand } from './alerts.ts';
import { clusterCommand } from './cluster.ts';
import { EXIT } from './exit-codes.ts';

/** Runs the CLI with the given arguments (without `node` and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.OK;
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('trailhound')
    .description('Detection engine for AWS logs: CloudTrail, VPC Flow Logs and GuardDuty, with Sigma rules')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .addCommand(scanCommand(setExitCode))
    .addCommand(rulesCommand(setExitCode))
    .addCommand(intelCommand(setExitCode))
    .addCommand(watchCommand(setExitCode))
    .addCommand(configCommand(setExitCode))
    .addCommand(tokensCommand(setExitCode))
    .addCommand(serveCommand(setExitCode))
    .addCommand(alertsCommand(setExitCode))
    .addCommand(clusterCommand(setExitCode));
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return error.exitCode === 0 ? EXIT.OK : EXIT.RULE_OR_CONFIG_ERROR;
    }
    throw error;
  }
  return exitCode;
}
