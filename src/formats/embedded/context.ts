/**
 * The context of a payload decoded inside one value of a unit (a Firehose record's data, a
 * CloudWatch Logs subscription's awslogs.data): errors are located inside the payload
 * (`<where the payload is>:<line>`, `<where the payload is>#<value><member>`), while records
 * keep the unit's own origin (its uri, and the next unit-wide index), so event ids and
 * idempotency keys are those of the unit. Counting goes to the unit: skipped values and errors
 * directly; records through what the enclosing format returns (counted once, by the dispatcher).
 */
import type { Origin } from '../../core/envelope.ts';
import type { DecodeStats, UnwrapContext } from '../types.ts';
import { UnitContext } from '../unit-context.ts';

export class EmbeddedContext extends UnitContext {
  private readonly parent: UnwrapContext;

  /** `where`: the location of the payload in the unit (`file#0.records[3].data`). */
  constructor(parent: UnwrapContext, where: string) {
    const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
    super(
      where,
      { onError: (error) => parent.reportError(error), stats, ...(parent.flowFormat === undefined ? {} : { flowFormat: parent.flowFormat }) },
      parent.payloadBudget,
    );
    this.parent = parent;
  }

  override nextOrigin(): Origin {
    return this.parent.nextOrigin();
  }

  override countSkipped(): void {
    this.parent.countSkipped();
  }

  /** The enclosing format returns these records; the dispatcher of the unit counts them. */
  override countRecords(): void {}
}
