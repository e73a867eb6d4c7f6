/**
 * `trailhound tokens create|list|revoke --store FILE.db`: the bearer tokens of `serve`'s API
 * and UI (roles reader, triager, admin). A token is printed once, on stdout, when created; the
 * store keeps only its SHA-256 (src/store/sqlite-alert-store.ts).
 */
import { Command, Option } from 'commander';
import { located } from '../core/errors.ts';
import { terminalText } from '../core/terminal-text.ts';
import { TOKEN_ROLES, type TokenRole } from '../store/alert-store.ts';
import { displayStoreSpec } from '../store/index.ts';
import { EXIT } from './exit-codes.ts';
import { storeOption, withStore, type StoreFlags } from './with-store.ts';

export function tokensCommand(setExitCode: (code: number) => void): Command {
  // Set before the subcommands are made, which inherit it: a missing option is exit 2, not process.exit.
  const command = new Command('tokens').description('Create, list and revoke the API tokens of trailhound serve').exitOverride();
  command
    .command('create')
    .description('Create a token and print it once on stdout (the store keeps only its hash)')
    .addOption(new Option('--role <role>', 'what the token may do').choices([...TOKEN_ROLES]).makeOptionMandatory())
    .requiredOption('--name <name>', 'a unique name: recorded as the actor of every change made with the token')
    .addOption(storeOption())
    .action(async (flags: StoreFlags & { role: TokenRole; name: string }) => {
      setExitCode(
        await withStore(flags.store, async (store, diagnostics) => {
          const { token } = await store.createToken(flags.name, flags.role);
          process.stdout.write(`${token}\n`);
          diagnostics.info(`token ${flags.name} (${flags.role}) created in ${displayStoreSpec(flags.store)}: it is shown only now; revoke it with trailhound tokens revoke ${flags.name} --store ${displayStoreSpec(flags.store)}`);
          return EXIT.OK;
        }),
      );
    });
  command
    .command('list')
    .description('List the tokens: name, role, created, last used (never the secrets)')
    .addOption(storeOption())
    .action(async (flags: StoreFlags) => {
      setExitCode(
        await withStore(flags.store, async (store, diagnostics) => {
          const tokens = await store.listTokens();
          if (tokens.length === 0) diagnostics.info('no tokens');
          for (const info of tokens) process.stdout.write(`${terminalText(info.name)}\t${info.role}\tcreated ${info.created_at}\tlast used ${info.last_used_at ?? 'never'}\n`);
          return EXIT.OK;
        }),
      );
    });
  command
    .command('revoke')
    .description('Revoke a token by name: it stops working at once')
    .argument('<name>', 'the token name')
    .addOption(storeOption())
    .action(async (name: string, flags: StoreFlags) => {
      setExitCode(
        await withStore(flags.store, async (store, diagnostics) => {
          if (!(await store.revokeToken(name))) {
            diagnostics.error(located('TH_STORE_NOT_FOUND', `no token is named ${name}`, displayStoreSpec(flags.store)));
            return EXIT.RULE_OR_CONFIG_ERROR;
          }
          diagnostics.info(`token ${name} revoked`);
          return EXIT.OK;
        }),
      );
    });
  return command;
}
