import type { Alert } from '../../src/core/alert.ts';

/** An alert for the sink tests; each test overrides what its assertions read. */
export function testAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: '0123456789abcdef0123456789abcdef',
    time: '2026-11-05T10:00:00.000Z',
    rule: { id: 'r-1', name: 'aws-ct-test', title: 'Test rule', level: 'high' },
    attack: { techniques: ['T1562.008'], tactics: ['defense-evasion'] },
    source: 'cloudtrail',
    account: '111122223333',
    region: 'us-east-1',
    actor: 'arn:aws:iam::111122223333:user/alice',
    source_ip: '203.0.113.7',
    event_ids: ['e-1'],
    count: 1,
    ...overrides,
  };
}
