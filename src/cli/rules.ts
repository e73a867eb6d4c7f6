import { Command, Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { DEFAULT_RULES_DIR, inapplicableRuleWarnings, loadRuleSet } from '../pack/rule-set.ts';
import { attackTechniqueProblems, checkRuleConventions } from '../pack/rule-conventions.ts';
import { alertsLayer, rulesLayer } from '../pack/navigator-layer.ts';
import type { LayerAlert } from '../pack/navigator-layer.ts';
import { suspectRuleWarnings } from '../sigma/lint.ts';
import { fileTooLarge, MAX_RULE_FILE_BYTES, readTextFile } from '../sigma/parse.ts';
import { formatLocatedError, located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
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

const BUILT_IN = resolve(DEFAULT_RULES_DIR);

/** Whether a path is the built-in pack or inside it. */
function isBuiltIn(path: string): boolean {
  const full = resolve(path);
  return full === BUILT_IN || full.startsWith(BUILT_IN + sep);
}

/** The file of a `file:line:col` (or plain file) location. */
function locationFile(location: string): string {
  const match = /^(.*?)(?::\d+:\d+)?$/.exec(location);
  return match?.[1] ?? location;
}

interface LintFlags extends RulesFlags {
  packConventions?: boolean;
  defaultRules?: boolean;
}

export function rulesCommand(setExitCode: (code: number) => void): Command {
  const command = new Command('rules').description('Test, lint and list Sigma rules, and export their ATT&CK coverage (navigator)');

  command
    .command('test')
    .description("Run every rule's tests (<name>.tests.yml beside <name>.yml)")
    .argument('[path]', 'rule file or folder (default: the built-in pack)')
    .option('--vars <file>', 'placeholder values for |expand')
    .option('--tuning <file>', "tuning file: run the tests against the tuned rules (disabled rules' tests are skipped)")
    .option('-q, --quiet', 'print failures only', false)
    .action(async (path: string | undefined, flags: RulesFlags & { tuning?: string }) => {
      const diagnostics = new Diagnostics({ quiet: false });
      const ruleSet = await loadRuleSet({ paths: rulePaths(path), ...(flags.vars === undefined ? {} : { varsFile: flags.vars }), ...(flags.tuning === undefined ? {} : { tuningFile: flags.tuning }) });
      for (const error of ruleSet.errors) diagnostics.error(error);
      for (const warning of ruleSet.warnings.filter((item) => item.code === 'TH_TUNING')) diagnostics.warn(formatLocatedError(warning));
      for (const rule of ruleSet.disabled) diagnostics.info(`skip  ${rule.name}: disabled by the tuning file (${rule.reason})`);
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
    .description('Validate rules: load errors with file:line:col, filter and correlation references, ATT&CK ids; pack conventions (name, level, ATT&CK tags, tests) with --pack-conventions')
    .argument('[paths...]', 'rule files or folders (default: the built-in pack)')
    .option('--vars <file>', 'placeholder values for |expand')
    .option('--pack-conventions', "check the built-in pack's conventions too: a kebab-case name, a level, ATT&CK technique tags, tests beside each rule (default: on for the built-in pack only)")
    .option('--no-pack-conventions', 'check Sigma validity only, even on the built-in pack')
    .option('--no-default-rules', 'resolve filter and correlation references against the given rules alone, not the built-in pack too')
    .action(async (paths: string[], flags: LintFlags) => {
      const diagnostics = new Diagnostics({ quiet: false });
      const given = paths.length > 0 ? paths : [DEFAULT_RULES_DIR];
      const builtInOnly = given.every(isBuiltIn);
      const packConventions = flags.packConventions ?? builtInOnly;
      // The built-in pack is loaded beside outside rules so that their filters and correlations
      // resolve the built-in names (a folder of filters alone); its own problems are not reported.
      const withPack = !builtInOnly && flags.defaultRules !== false;
      const ruleSet = await loadRuleSet({ paths: withPack ? [DEFAULT_RULES_DIR, ...given] : given, ...(flags.vars === undefined ? {} : { varsFile: flags.vars }) });
      const linted = (location: string): boolean => !withPack || !isBuiltIn(locationFile(location));
      const mine = <T extends { position: { file: string } }>(items: readonly T[]): T[] => items.filter((item) => linted(item.position.file));
      const rules = mine(ruleSet.rules);
      const correlations = mine(ruleSet.correlations);
      const filters = mine(ruleSet.filters);
      const problems: LocatedError[] = [...ruleSet.errors, ...ruleSet.warnings].filter((error) => linted(error.location));
      const warnings: string[] = [];
      for (const rule of [...rules, ...correlations]) {
        if (packConventions) problems.push(...(await checkRuleConventions(rule)));
        else warnings.push(...attackTechniqueProblems(rule).map(formatLocatedError));
      }
      for (const error of problems) diagnostics.error(error);
      // Warnings, not problems: a rule for another product (a Sigma repository's windows
      // rules) is not wrong, it only never matches here. They leave the exit code alone.
      warnings.push(...inapplicableRuleWarnings(rules));
      const files = [...new Set([...rules, ...correlations, ...filters, ...mine(ruleSet.otherDocuments)].map((item) => item.position.file))].sort();
      for (const file of files) {
        const read = await readTextFile(file, MAX_RULE_FILE_BYTES).catch(() => undefined);
        if (read?.ok === true) warnings.push(...suspectRuleWarnings(read.text, file).map(formatLocatedError));
      }
      for (const warning of warnings) diagnostics.warn(warning);
      process.stderr.write(`rules lint: ${rules.length} rules, ${correlations.length} correlations, ${filters.length} filters, ${problems.length} problems, ${warnings.length} warnings\n`);
      setExitCode(problems.length > 0 ? EXIT.RULE_OR_CONFIG_ERROR : EXIT.OK);
    });

  command
    .command('navigator')
    .description('Write an ATT&CK Navigator layer (format 4.5) of the rules: one technique per entry, scored by rule count; with --alerts, of what alerted')
    .argument('[paths...]', 'rule files or folders, added to the built-in pack unless --no-default-rules')
    .option('--vars <file>', 'placeholder values for |expand')
    .option('--tuning <file>', 'tuning file: rules it disables are left out of the layer')
    .option('--alerts <file>', 'alerts (scan --format jsonl output): colour the techniques that alerted, scored by alert count')
    .option('-o, --output <file>', 'write the layer to this file (default: stdout)')
    .option('--no-default-rules', 'leave the built-in pack out')
    .action(async (paths: string[], flags: RulesFlags & { tuning?: string; alerts?: string; output?: string; defaultRules?: boolean }) => {
      const diagnostics = new Diagnostics({ quiet: false });
      let result;
      if (flags.alerts !== undefined) {
        const alerts = await readAlerts(flags.alerts, diagnostics);
        if (alerts === undefined) {
          setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
          return;
        }
        result = alertsLayer(alerts);
      } else {
        const rulePathsGiven = flags.defaultRules === false ? paths : [DEFAULT_RULES_DIR, ...paths.filter((path) => !isBuiltIn(path))];
        const ruleSet = await loadRuleSet({
          paths: rulePathsGiven.length > 0 ? rulePathsGiven : [DEFAULT_RULES_DIR],
          ...(flags.vars === undefined ? {} : { varsFile: flags.vars }),
          ...(flags.tuning === undefined ? {} : { tuningFile: flags.tuning }),
        });
        for (const error of ruleSet.errors) diagnostics.error(error);
        for (const warning of ruleSet.warnings) diagnostics.warn(formatLocatedError(warning));
        if (ruleSet.errors.length > 0) {
          setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
          return;
        }
        // Disabled rules are not in ruleSet.rules (the tuning file took them out); the flag is
        // honoured too, for rules that carry it.
        result = rulesLayer([...ruleSet.rules, ...ruleSet.correlations].map((rule) => ({ id: rule.id, name: rule.name, tags: rule.tags, disabled: (rule as { disabled?: unknown }).disabled === true })));
      }
      if (result.skipped.length > 0) diagnostics.warn(`left out of the layer, not live techniques of the catalog's ATT&CK version: ${terminalText(result.skipped.join(', '))}`);
      const text = `${JSON.stringify(result.layer, null, 2)}\n`;
      if (flags.output === undefined) process.stdout.write(text);
      else await writeFile(flags.output, text);
      process.stderr.write(`rules navigator: ${result.layer.techniques.length} techniques${flags.output === undefined ? '' : ` written to ${terminalText(flags.output)}`}\n`);
      setExitCode(EXIT.OK);
    });

  command
    .command('list')
    .description('List rules: id, name, effective level, ATT&CK techniques, correlation window and threshold, tuning (what a tuning file changed or switched off, and why)')
    .argument('[path]', 'rule file or folder (default: the built-in pack)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'jsonl']).default('table'))
    .option('--vars <file>', 'placeholder values for |expand')
    .option('--tuning <file>', 'tuning file: show the effective level, window and threshold, and which rules are off and why')
    .action(async (path: string | undefined, flags: RulesFlags & { format: 'table' | 'jsonl'; tuning?: string }) => {
      const diagnostics = new Diagnostics({ quiet: false });
      const ruleSet = await loadRuleSet({ paths: rulePaths(path), ...(flags.vars === undefined ? {} : { varsFile: flags.vars }), ...(flags.tuning === undefined ? {} : { tuningFile: flags.tuning }) });
      for (const error of ruleSet.errors) diagnostics.error(error);
      for (const warning of ruleSet.warnings.filter((item) => item.code === 'TH_TUNING')) diagnostics.warn(formatLocatedError(warning));
      const rows = [...ruleSet.rules, ...ruleSet.correlations].map((rule) => {
        const { techniques, tactics } = attackTagsToIds(rule.tags);
        const kind = rule.kind === 'correlation' ? `correlation:${rule.type}` : 'detection';
        const correlation =
          rule.kind === 'correlation'
            ? { timespan: rule.timespan, condition: rule.condition.terms.map((term) => `${term.operator} ${term.threshold}`).join(' '), group_by: rule.groupBy }
            : undefined;
        return {
          id: rule.id,
          name: rule.name ?? null,
          title: rule.title,
          kind,
          level: rule.level,
          techniques,
          tactics,
          ...(correlation === undefined ? {} : { correlation }),
          enabled: true,
          ...(rule.tuning === undefined ? {} : { tuning: [...rule.tuning] }),
          file: rule.position.file,
        };
      });
      const off = ruleSet.disabled.map((rule) => ({ id: rule.id, name: rule.name, enabled: false, reason: rule.reason, ...(rule.owner === undefined ? {} : { owner: rule.owner }), ...(rule.expires === undefined ? {} : { expires: rule.expires }) }));
      if (flags.format === 'jsonl') {
        for (const row of rows) process.stdout.write(JSON.stringify(row) + '\n');
        for (const row of off) process.stdout.write(JSON.stringify(row) + '\n');
      } else {
        // Ids, names, tags and tuning reasons come from files: shown escaped (terminal-text.ts).
        const shown = [
          ...rows.map((row) => ({
            id: terminalText(row.id),
            name: terminalText(row.name ?? row.title),
            level: terminalText(row.level),
            window: row.correlation === undefined ? '' : terminalText(`${row.correlation.timespan} ${row.correlation.condition}`),
            techniques: terminalText(row.techniques.join(' ')),
            tuning: row.tuning === undefined ? '' : terminalText(`tuned: ${row.tuning.join('; ')}`),
          })),
          ...off.map((row) => ({ id: terminalText(row.id), name: terminalText(row.name), level: 'off', window: '', techniques: '', tuning: terminalText(`disabled: ${row.reason}${row.owner === undefined ? '' : ` (${row.owner})`}${row.expires === undefined ? '' : ` until ${row.expires}`}`) })),
        ];
        const nameWidth = Math.max(4, ...shown.map((row) => row.name.length));
        const windowWidth = Math.max(6, ...shown.map((row) => row.window.length));
        const techniqueWidth = Math.max(6, ...shown.map((row) => row.techniques.length));
        const tuned = shown.some((row) => row.tuning !== '');
        process.stdout.write(`${'ID'.padEnd(36)}  ${'NAME'.padEnd(nameWidth)}  ${'LEVEL'.padEnd(13)}  ${'WINDOW'.padEnd(windowWidth)}  ${tuned ? `${'ATT&CK'.padEnd(techniqueWidth)}  TUNING` : 'ATT&CK'}\n`);
        for (const row of shown) {
          process.stdout.write(`${row.id.padEnd(36)}  ${row.name.padEnd(nameWidth)}  ${row.level.padEnd(13)}  ${row.window.padEnd(windowWidth)}  ${tuned ? `${row.techniques.padEnd(techniqueWidth)}  ${row.tuning}` : row.techniques}`.trimEnd() + '\n');
        }
      }
      setExitCode(ruleSet.errors.length > 0 ? EXIT.RULE_OR_CONFIG_ERROR : EXIT.OK);
    });

  return command;
}

/** The alerts of a `scan --format jsonl` file; undefined (with a located TH_CONFIG error) when it cannot be read. */
async function readAlerts(file: string, diagnostics: Diagnostics): Promise<LayerAlert[] | undefined> {
  let text: string;
  try {
    const read = await readTextFile(file, 1024 * 1024 * 1024);
    if (!read.ok) {
      diagnostics.error(read.reason === 'too-large' ? fileTooLarge(file, read.size, 1024 * 1024 * 1024, 'the alerts file', 'TH_CONFIG') : located('TH_CONFIG', '--alerts: not a regular file', file));
      return undefined;
    }
    text = read.text;
  } catch (error) {
    diagnostics.error(located('TH_CONFIG', `--alerts: cannot read the file: ${(error as Error).message}`, file));
    return undefined;
  }
  const alerts: LayerAlert[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      diagnostics.error(located('TH_CONFIG', '--alerts: not a JSON alert line (expected the output of scan --format jsonl)', `${file}:${i + 1}`));
      return undefined;
    }
    const alert = value as { rule?: { name?: unknown; id?: unknown }; attack?: { techniques?: unknown } };
    const techniques = Array.isArray(alert.attack?.techniques) ? alert.attack.techniques.filter((id): id is string => typeof id === 'string') : [];
    const name = typeof alert.rule?.name === 'string' ? alert.rule.name : null;
    const id = typeof alert.rule?.id === 'string' ? alert.rule.id : undefined;
    alerts.push({ rule: { name, ...(id === undefined ? {} : { id }) }, attack: { techniques } });
  }
  return alerts;
}
