/**
 * Which of trailhound's log sources (cloudtrail, vpcflow, guardduty) a rule's Sigma logsource
 * names: `product: aws` with `service: cloudtrail | vpcflow | guardduty`, or every AWS source
 * when the service is left out.
 */
import type { LogSourceName } from '../core/envelope.ts';
import type { CompiledDetectionRule } from './types.ts';

/** Which log sources a rule applies to, from its Sigma logsource. Empty: none of ours. */
export function sourcesOfRule(rule: CompiledDetectionRule): LogSourceName[] {
  const { product, service } = rule.logsource;
  if (product !== undefined && product.toLowerCase() !== 'aws') return [];
  const all: LogSourceName[] = ['cloudtrail', 'vpcflow', 'guardduty'];
  if (service === undefined) return product === undefined ? [] : all;
  const wanted = service.toLowerCase();
  return all.filter((source) => source === wanted);
}
