import { Command, Option } from 'commander';
import { DEFAULT_RULES_DIR, inapplicableRuleWarnings, loadRuleSet } from '../pack/rule-set.ts';
import { checkRuleConventions } from '../pack/rule-conventions.ts';
import { runRuleTests } from '../pack/rule-tests.ts';
import { attackTagsToIds } from '../attack/techniques.ts';
import { Diagnostics } from './diagnostics.ts';
import { terminalText } from '../core/terminal-text.ts';
import { EXIT } from './exit-codes.ts';

interface RulesFlags {
  vars?: string;
  quiet?: boolean;
}

function rulePaths(path: string | undefined): string[] {
  return [path ?? DEFAULT_RULES_DIR];
}

export function rulesCommand(setExitCode: (code: number) => void): Command {
  const command = new Command('rules').description('Test, lint and list Sigma rules');

  command
    .command('test')
    .description("Run every rule's tests (<name>.tests.yml beside <name>.yml)")
    .argument('[path]', 'rule file or folder (default: the built-in pack)')
    .option('--vars <file>', 'placeholder values for |expand')
    .option('-q, --quiet', 'print failures only', false)
    .action(async (path: string | undefined, flags: RulesFlags) => {
      const diagnostics = new Diagnostics({ quiet: false });
      const ruleSet = await loadRuleSet({ paths: rulePaths(path), ...(flags.vars === undefined ? {} : { varsFile: flags.vars }) });
      for (const error of ruleSet.errors) diagnostics.error(error);
      const results = await runRuleTests(ruleSet.rules, ruleSet);
      let passed = 0;
      let failed = 0;
      for (const result of results) {
        for (const error of result.errors) diagnostics.error(error);
        for (const outcome of result.outcomes) {
          const name = outcome.rule.name ?? outcome.rule.id;
          if (outcome.passed) {
            passed += 1;
            if (flags.quiet !== true) process.stdout.write(`${terminalText(`ok    ${name}: ${outcome.testCase.description}`)}\n`);
          } else {
            failed += 1;
            const actual = outcome.testCase.expect === 'match' ? 'did not match' : 'matched';
            process.stdout.write(`${terminalText(`FAIL  ${name}: ${outcome.testCase.description} — expected ${outcome.testCase.expect}, ${actual} (${outcome.testCase.location})`)}\n`);
          }
        }
      }
      const errorCount = ruleSet.errors.length + results.reduce((sum, result) => sum + result.errors.length, 0);
      process.stdout.write(`rules: ${passed} passed, ${failed} failed\n`);
      setExitCode(errorCount > 0 ? EXIT.RULE_OR_CONFIG_ERROR : failed > 0 ? EXIT.ALERTS : EXIT.OK);
    });

  command
    .command('lint')
    .description('Validate rules: load errors with file:line:col, naming, ATT&CK tags, tests present')
    .argument('[path]', 'rule file or folder (default: the built-in pack)')
    .option('--vars <file>', 'placeholder values for |expand')
    .action(async (path: string | undefined, flags: RulesFlags) => {
      const diagnostics = new Diagnostics({ quiet: false });
      const ruleSet = await loadRuleSet({ paths: rulePaths(path), ...(flags.vars === undefined ? {} : { varsFile: flags.vars }) });
      const errors = [...ruleSet.errors, ...ruleSet.warnings];
      for (const rule of [...ruleSet.rules, ...ruleSet.correlations]) errors.push(...(await checkRuleConventions(rule)));
      for (const error of errors) diagnostics.error(error);
      // Warnings, not problems: a rule for another product (a Sigma repository's windows
      // rules) is not wrong, it only never matches here. They leave the exit code alone.
      const warnings = inapplicableRuleWarnings(ruleSet.rules);
      for (const warning of warnings) diagnostics.warn(warning);
      process.stderr.write(`rules lint: ${ruleSet.rules.length} rules, ${ruleSet.correlations.length} correlations, ${ruleSet.filters.length} filters, ${errors.length} problems, ${warnings.length} warnings\n`);
      setExitCode(errors.length > 0 ? EXIT.RULE_OR_CONFIG_ERROR : EXIT.OK);
    });

  command
    .command('list')
    .description('List rules: id, name, level, ATT&CK techniques')
    .argument('[path]', 'rule file or folder (default: the built-in pack)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'jsonl']).default('table'))
    .option('--vars <file>', 'placeholder values for |expand')
    .action(async (path: string | undefined, flags: RulesFlags & { format: 'table' | 'jsonl' }) => {
      const diagnostics = new Diagnostics({ quiet: false });
      const ruleSet = await loadRuleSet({ paths: rulePaths(path), ...(flags.vars === undefined ? {} : { varsFile: flags.vars }) });
      for (const error of ruleSet.errors) diagnostics.error(error);
      const rows = [...ruleSet.rules, ...ruleSet.correlations].map((rule) => {
        const { techniques, tactics } = attackTagsToIds(rule.tags);
        const kind = rule.kind === 'correlation' ? `correlation:${rule.type}` : 'detection';
        return { id: rule.id, name: rule.name ?? null, title: rule.title, kind, level: rule.level, techniques, tactics, file: rule.position.file };
      });
      if (flags.format === 'jsonl') {
        for (const row of rows) process.stdout.write(JSON.stringify(row) + '\n');
      } else {
        // Ids, names and tags come from rule files: shown escaped (terminal-text.ts).
        const shown = rows.map((row) => ({ id: terminalText(row.id), name: terminalText(row.name ?? row.title), level: terminalText(row.level), techniques: terminalText(row.techniques.join(' ')) }));
        const nameWidth = Math.max(4, ...shown.map((row) => row.name.length));
        process.stdout.write(`${'ID'.padEnd(36)}  ${'NAME'.padEnd(nameWidth)}  ${'LEVEL'.padEnd(13)}  ATT&CK\n`);
        for (const row of shown) {
          process.stdout.write(`${row.id.padEnd(36)}  ${row.name.padEnd(nameWidth)}  ${row.level.padEnd(13)}  ${row.techniques}\n`);
        }
      }
      setExitCode(ruleSet.errors.length > 0 ? EXIT.RULE_OR_CONFIG_ERROR : EXIT.OK);
    });

  return command;
}
