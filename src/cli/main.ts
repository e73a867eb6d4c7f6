import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.ts';

type CommandFactory = (setExitCode: (code: number) => void) => Command;

/**
 * Every command, loaded only when it is the one asked for: a command's module imports what it
 * needs (the engine, the AWS SDK, fastify, the store drivers), and `trailhound --version` or
 * `trailhound rules list` should not pay for the others. Help and an unknown command load them all.
 */
const COMMANDS: readonly (readonly [string, () => Promise<CommandFactory>])[] = [
  ['scan', async () => (await import('./scan.ts')).scanCommand],
  ['rules', async () => (await import('./rules.ts')).rulesCommand],
  ['intel', async () => (await import('./intel.ts')).intelCommand],
  ['watch', async () => (await import('./watch.ts')).watchCommand],
  ['config', async () => (await import('./config.ts')).configCommand],
  ['tokens', async () => (await import('./tokens.ts')).tokensCommand],
  ['serve', async () => (await import('./serve.ts')).serveCommand],
  ['alerts', async () => (await import('./alerts.ts')).alertsCommand],
  ['cluster', async () => (await import('./cluster.ts')).clusterCommand],
];

/** The commands `argv` needs: none for --version, the one named, or all (help, a mistyped name). */
function needed(argv: readonly string[]): readonly (readonly [string, () => Promise<CommandFactory>])[] {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return [];
  const named = COMMANDS.find(([name]) => name === argv[0]);
  return named === undefined ? COMMANDS : [named];
}

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
    .exitOverride();
  for (const [, load] of needed(argv)) program.addCommand((await load())(setExitCode));
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
