import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { corpusPath, corpusSkip } from '../corpus.ts';
import { alertLines, runCli } from './run-cli.ts';

interface EmbeddedEvent {
  eventName?: string;
}

/** eventName -> the rules that fired on it. */
function rulesByEventName(stdout: string): Map<string, Set<string>> {
  const byName = new Map<string, Set<string>>();
  for (const alert of alertLines(stdout)) {
    for (const event of (alert.events ?? []) as EmbeddedEvent[]) {
      const name = event.eventName ?? '?';
      const rules = byName.get(name) ?? new Set<string>();
      rules.add(alert.rule.name ?? '?');
      byName.set(name, rules);
    }
  }
  return byName;
}

test('scanning the whole CloudTrail corpus finishes, locates every unreadable record, and raises the pack on the seed events', corpusSkip(), async () => {
  const result = await runCli(['scan', corpusPath('cloudtrail')]);
  // Panther's rule-test wrappers and a TSV of sources are not logs: located input errors, exit 3.
  assert.equal(result.code, 3, result.stderr.slice(-2000));
  const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('error: '));
  assert.ok(errorLines.length >= 477);
  for (const line of errorLines) assert.match(line, /^error: \S+(:\d+|#\S+)?: TH_INPUT_[A-Z]+ \S/);
  assert.equal(errorLines.filter((line) => line.includes('panther-analysis.rule-tests.jsonl:')).length, 477);
  assert.match(result.stderr, /trailhound: 170 records from \d+ inputs/);

  const fired = rulesByEventName(result.stdout);
  const expected: Record<string, string> = {
    CreateKeyPair: 'aws-ct-ec2-keypair-created-or-imported',
    SendSSHPublicKey: 'aws-ct-ec2-instance-connect-key-pushed',
    SendSerialConsoleSSHPublicKey: 'aws-ct-ec2-instance-connect-key-pushed-serial',
    DeleteFlowLogs: 'aws-ct-vpc-flow-logs-deleted',
    DeleteDetector: 'aws-ct-guardduty-detector-disabled',
    UpdateTrail: 'aws-ct-cloudtrail-config-weakened-trail-settings',
  };
  for (const [eventName, rule] of Object.entries(expected)) {
    assert.ok(fired.get(eventName)?.has(rule), `${rule} did not fire on the corpus's ${eventName}: ${JSON.stringify([...(fired.get(eventName) ?? [])])}`);
  }
});

test("the pack fires on the seed events found only inside Panther's rule-test wrappers", corpusSkip(), async () => {
  // Panther wraps each test event as {"rule", "expectedResult", "event"}: a test-case envelope,
  // not a log format. Unwrapped, the events are CloudTrail records like any other.
  const seed = new Set(['AttachUserPolicy', 'DeleteTrail', 'StopLogging', 'PutEventSelectors', 'UpdateTrail', 'ModifyInstanceAttribute', 'SendSSHPublicKey', 'DeleteFlowLogs']);
  const events = readFileSync(corpusPath('cloudtrail/panther-analysis.rule-tests.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { event?: EmbeddedEvent }).event)
    .filter((event): event is EmbeddedEvent => event !== undefined && seed.has(event.eventName ?? ''));
  const result = await runCli(['scan', '-'], { stdin: events.map((event) => JSON.stringify(event)).join('\n') });
  assert.equal(result.code, 0, result.stderr);
  const fired = rulesByEventName(result.stdout);
  const expected: Record<string, string> = {
    AttachUserPolicy: 'aws-ct-iam-compromised-key-quarantine',
    DeleteTrail: 'aws-ct-cloudtrail-stopped-or-deleted',
    StopLogging: 'aws-ct-cloudtrail-stopped-or-deleted',
    PutEventSelectors: 'aws-ct-cloudtrail-config-weakened',
    ModifyInstanceAttribute: 'aws-ct-ec2-userdata-modified',
    SendSSHPublicKey: 'aws-ct-ec2-instance-connect-key-pushed',
    DeleteFlowLogs: 'aws-ct-vpc-flow-logs-deleted',
  };
  for (const [eventName, rule] of Object.entries(expected)) {
    assert.ok(fired.get(eventName)?.has(rule), `${rule} did not fire on Panther's ${eventName}: ${JSON.stringify([...(fired.get(eventName) ?? [])])}`);
  }
});
