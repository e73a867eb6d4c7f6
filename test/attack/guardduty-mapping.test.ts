import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  attackForFindingType,
  levelForGuardDutySeverity,
  GUARDDUTY_ATTACK_TABLE,
} from '../../src/attack/guardduty-mapping.ts';
import { techniqueInfo } from '../../src/attack/techniques.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/guardduty/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

test('severity bands are half-open: >=9 critical, [7,9) high, [4,7) medium, <4 low', () => {
  const cases: [number, string][] = [
    [0, 'low'],
    [1, 'low'],
    [3.9, 'low'],
    [3.99, 'low'],
    [4, 'medium'],
    [5, 'medium'],
    [6.99, 'medium'],
    [7, 'high'],
    [8.9, 'high'],
    [8.95, 'high'],
    [8.999, 'high'],
    [9, 'critical'],
    [10, 'critical'],
    [NaN, 'low'],
  ];
  for (const [sev, level] of cases) assert.equal(levelForGuardDutySeverity(sev), level, `severity ${sev}`);
});

/** One finding type per row of seed-detections.md §3, with the techniques it must carry. */
const ROWS: [string, string[]][] = [
  ['UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B', ['T1078.004']],
  ['PenTest:IAMUser/KaliLinux', ['T1078.004']],
  ['Policy:IAMUser/RootCredentialUsage', ['T1078.004']],
  ['CredentialAccess:IAMUser/AnomalousBehavior', ['T1078.004']],
  ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', ['T1552.005']],
  ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS', ['T1552.005']],
  ['Persistence:IAMUser/AnomalousBehavior', ['T1098.001', 'T1098.004']],
  ['Stealth:IAMUser/CloudTrailLoggingDisabled', ['T1562.008', 'T1562.001']],
  ['Stealth:S3/ServerAccessLoggingDisabled', ['T1562.008', 'T1562.001']],
  ['DefenseEvasion:IAMUser/AnomalousBehavior', ['T1562.008', 'T1562.001']],
  ['Discovery:IAMUser/AnomalousBehavior', ['T1580']],
  ['Discovery:S3/MaliciousIPCaller', ['T1580']],
  ['Recon:IAMUser/MaliciousIPCaller.Custom', ['T1526']],
  ['Recon:EC2/Portscan', ['T1046', 'T1595.001']],
  ['Recon:EC2/PortProbeUnprotectedPort', ['T1046', 'T1595.001']],
  ['Recon:EC2/PortProbeEMRUnprotectedPort', ['T1046', 'T1595.001']],
  ['Impact:EC2/PortSweep', ['T1046', 'T1595.001']],
  ['UnauthorizedAccess:EC2/SSHBruteForce', ['T1110']],
  ['UnauthorizedAccess:EC2/RDPBruteForce', ['T1110']],
  ['Backdoor:EC2/C&CActivity.B', ['T1071']],
  ['Backdoor:EC2/C&CActivity.B!DNS', ['T1071']],
  ['Trojan:EC2/DropPoint!DNS', ['T1071']],
  ['Trojan:EC2/BlackholeTraffic', ['T1071']],
  ['Trojan:EC2/DGADomainRequest.C!DNS', ['T1568.002']],
  ['Trojan:EC2/DNSDataExfiltration', ['T1048.003']],
  ['Trojan:EC2/DNSDataExfiltration!DNS', ['T1048.003']],
  ['UnauthorizedAccess:EC2/TorClient', ['T1090.003']],
  ['UnauthorizedAccess:EC2/TorRelay', ['T1090.003']],
  ['CryptoCurrency:EC2/BitcoinTool.B', ['T1496']],
  ['CryptoCurrency:EC2/BitcoinTool.B!DNS', ['T1496']],
  ['Impact:EC2/BitcoinDomainRequest.Reputation', ['T1496']],
  ['Backdoor:EC2/DenialOfService.Tcp', ['T1498']],
  ['Exfiltration:S3/AnomalousBehavior', ['T1530', 'T1567.002']],
  ['Exfiltration:S3/MaliciousIPCaller', ['T1530', 'T1567.002']],
  ['Impact:S3/MaliciousIPCaller', ['T1485', 'T1565.001']],
  ['Impact:IAMUser/AnomalousBehavior', ['T1531']],
  ['Behavior:EC2/NetworkPortUnusual', ['T1571']],
];

test('every row of the table maps its finding types', () => {
  for (const [type, techniques] of ROWS) {
    const got = attackForFindingType(type);
    for (const t of techniques) assert.ok(got.techniques.includes(t), `${type} -> ${t} (got ${got.techniques.join(',')})`);
    assert.ok(got.tactics.length > 0, `${type} has a tactic`);
  }
  // Every row is exercised by at least one example above.
  for (const row of GUARDDUTY_ATTACK_TABLE) {
    assert.ok(
      ROWS.some(([, t]) => row.techniques.every((id) => t.includes(id))),
      `row ${row.patterns.join(' | ')} has a test case`,
    );
  }
});

test('overlapping rows add up; tactics follow the ThreatPurpose', () => {
  assert.deepEqual(attackForFindingType('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'), {
    techniques: ['T1078.004', 'T1552.005'],
    tactics: ['initial-access'],
  });
  assert.deepEqual(attackForFindingType('Persistence:IAMUser/AnomalousBehavior'), {
    techniques: ['T1078.004', 'T1098.001', 'T1098.004'],
    tactics: ['persistence'],
  });
  assert.deepEqual(attackForFindingType('Recon:EC2/Portscan').tactics, ['discovery', 'reconnaissance']);
  assert.deepEqual(attackForFindingType('Exfiltration:S3/AnomalousBehavior').tactics, ['exfiltration']);
});

test('v18 ids that moved in v19 come with their partner', () => {
  const got = attackForFindingType('Stealth:IAMUser/CloudTrailLoggingDisabled');
  assert.deepEqual(got.techniques, ['T1562.008', 'T1562.001', 'T1685.002', 'T1685']);
  assert.deepEqual(got.tactics, ['defense-evasion', 'defense-impairment']);
});

test('patterns are anchored: similar names do not match', () => {
  assert.deepEqual(attackForFindingType('UnauthorizedAccess:EC2/TorClientX').techniques, []);
  assert.deepEqual(attackForFindingType('Trojan:EC2/DNSDataExfiltrationX').techniques, []);
  assert.deepEqual(attackForFindingType('Impact:S3/MaliciousIPCallerX').techniques, []);
});

test('unknown types fall back to the ThreatPurpose tactic', () => {
  const cases: [string, string[]][] = [
    ['CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin', ['credential-access']],
    ['Persistence:Kubernetes/ContainerWithSensitiveMount', ['persistence']],
    ['Exfiltration:RDS/AnomalousBehavior.SuccessfulLogin', ['exfiltration']],
    ['Impact:Kubernetes/MaliciousIPCaller', ['impact']],
    ['CryptoCurrency:Runtime/BitcoinTool.B', ['impact']],
    ['Trojan:Runtime/DropPoint', ['command-and-control']],
    ['Backdoor:Runtime/C&CActivity.B', ['command-and-control']],
    ['UnauthorizedAccess:Lambda/TorClient', ['initial-access']],
    ['InitialAccess:EC2/Something', ['initial-access']],
    ['Stealth:Runtime/ProcessInjection.Proc', ['defense-evasion', 'defense-impairment']],
    ['DefenseEvasion:Runtime/FilelessExecution', ['defense-evasion', 'defense-impairment']],
    ['DefenseImpairment:EC2/DisableOrModifyTools', ['defense-evasion', 'defense-impairment']],
  ];
  for (const [type, tactics] of cases) {
    const got = attackForFindingType(type);
    assert.deepEqual(got.tactics, tactics, type);
  }
  assert.deepEqual(attackForFindingType('Policy:S3/BucketBlockPublicAccessDisabled'), { techniques: [], tactics: [] });
  assert.deepEqual(attackForFindingType('garbage'), { techniques: [], tactics: [] });
});

test('AttackSequence findings take the tactics and techniques they list', () => {
  const finding = fixture('attack-sequence.json');
  const got = attackForFindingType(finding.type as string, finding);
  assert.deepEqual(got.tactics, ['discovery', 'persistence', 'defense-evasion', 'defense-impairment']);
  assert.deepEqual(got.techniques, ['T1580', 'T1098.001', 'T1562.008', 'T1685.002']);
  // Without the finding (or without indicators) nothing is guessed.
  assert.deepEqual(attackForFindingType('AttackSequence:S3/CompromisedData'), { techniques: [], tactics: [] });
  // Security Hub (PascalCase) shape; tactics inferred from techniques when none listed.
  const hub = {
    Detection: { Sequence: { SequenceIndicators: [{ Key: 'ATTACK_TECHNIQUE', Values: ['T1078.004'] }] } },
  };
  const fromHub = attackForFindingType('AttackSequence:IAM/CompromisedCredentials', hub);
  assert.deepEqual(fromHub.techniques, ['T1078.004']);
  assert.deepEqual(fromHub.tactics, techniqueInfo('T1078.004')?.tactics);
});
