/**
 * The built-in pseudo-rules: detections that are not Sigma rules (GuardDuty findings raised as
 * they are, threat-intel matches) but raise alerts like one, under a stable UUID and name so
 * alerts, receivers and allowlists can tell them apart. Their level and ATT&CK mapping are
 * decided per alert (finding severity and type, flow action and direction); the values here
 * are the defaults.
 */
import type { AlertRule } from '../../core/alert.ts';

export const GUARDDUTY_PASSTHROUGH_RULE: AlertRule = {
  id: '5c1e6349-9f46-4083-9677-6f529337bc7a',
  name: 'aws-gd-finding-passthrough',
  title: 'GuardDuty finding',
  level: 'medium',
  attack: { techniques: [], tactics: [] },
};

export const VPCFLOW_CTI_RULE: AlertRule = {
  id: 'c59e7da7-c582-4522-9e91-d0d340a98aae',
  name: 'aws-vpcflow-cti-ip-match',
  title: 'Network traffic with a threat-intelligence indicator',
  level: 'medium',
  attack: { techniques: ['T1071'], tactics: ['command-and-control'] },
};

export const CLOUDTRAIL_CTI_RULE: AlertRule = {
  id: '93bfc85f-a319-4727-a695-b5760ec96bdf',
  name: 'aws-ct-cti-source-ip-match',
  title: 'AWS API call from a threat-intelligence indicator',
  level: 'high',
  attack: { techniques: ['T1078.004'], tactics: ['initial-access'] },
};

export const GUARDDUTY_CTI_RULE: AlertRule = {
  id: '137ef751-7ca4-4f5c-883e-3dc1d17b45c8',
  name: 'aws-gd-cti-remote-ip-match',
  title: 'GuardDuty finding with a threat-intelligence indicator as its remote address',
  level: 'medium',
  attack: { techniques: [], tactics: [] },
};

/** Every pseudo-rule, for listings and for the names filters may reference. */
export const BUILTIN_RULES: readonly AlertRule[] = [GUARDDUTY_PASSTHROUGH_RULE, VPCFLOW_CTI_RULE, CLOUDTRAIL_CTI_RULE, GUARDDUTY_CTI_RULE];

/** The log source each pseudo-rule reads: what a filter naming it must declare (or leave open). */
export const BUILTIN_RULE_SERVICES: ReadonlyMap<string, string> = new Map([
  [GUARDDUTY_PASSTHROUGH_RULE.id, 'guardduty'],
  [VPCFLOW_CTI_RULE.id, 'vpcflow'],
  [CLOUDTRAIL_CTI_RULE.id, 'cloudtrail'],
  [GUARDDUTY_CTI_RULE.id, 'guardduty'],
]);
