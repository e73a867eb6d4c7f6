/**
 * Which flow-log lines a Sigma rule could match, decided on the scanner's byte view before any
 * record is built. A rule's required values (src/sigma/required-values.ts) say, per field, the
 * values every matching record holds one of: a line whose column holds none of them cannot
 * match, so its record is never built. Most flow rules pin a port, an action or a protocol,
 * which keeps record building to the few lines that may match.
 *
 * A rule with no required value on a top-level field gives no prefilter: then every line may
 * match (compileFlowPrefilter returns undefined) and records are built for all.
 */
import type { CompiledDetectionRule } from '../sigma/types.ts';
import type { FlowHeader } from '../formats/vpcflow-fields.ts';
import type { FlowLineView } from '../formats/vpcflow-scan.ts';

type LineTest = (view: FlowLineView) => boolean;

interface FieldConstraint {
  field: string;
  values: ReadonlySet<string>;
}

/** A line's column equals one of `values` (lowercase ASCII), compared as bytes, ignoring case. */
function bytesIn(column: number, values: readonly Buffer[]): LineTest {
  return (view) => {
    if (view.isAbsent(column)) return false;
    const buf = view.buf;
    const start = view.fieldStart(column);
    const length = view.fieldEnd(column) - start;
    next: for (const value of values) {
      if (value.length !== length) continue;
      for (let i = 0; i < length; i++) {
        let c = buf[start + i] as number;
        if (c >= 65 && c <= 90) c += 32;
        if (c !== value[i]) continue next;
      }
      return true;
    }
    return false;
  };
}

function intIn(column: number, values: ReadonlySet<number>): LineTest {
  return (view) => values.has(view.int(column));
}

function compileConstraint(header: FlowHeader, constraint: FieldConstraint): LineTest {
  const column = header.column(constraint.field);
  if (column < 0) return () => false;
  if (header.integer[column] === 1) {
    const numbers = new Set<number>();
    for (const value of constraint.values) if (/^(0|[1-9][0-9]{0,15})$/.test(value)) numbers.add(Number(value));
    return intIn(column, numbers);
  }
  return bytesIn(column, [...constraint.values].map((value) => Buffer.from(value, 'latin1')));
}

/** Per header (headers change between files), whether a line may match any of the rules. */
export class FlowPrefilter {
  private header: FlowHeader | undefined;
  private tests: LineTest[][] = [];

  private constructor(private readonly rules: readonly FieldConstraint[][]) {}

  /** The prefilter of the rules, or undefined when one of them could match any line. */
  static compile(rules: readonly CompiledDetectionRule[]): FlowPrefilter | undefined {
    const constraints: FieldConstraint[][] = [];
    for (const rule of rules) {
      const own: FieldConstraint[] = [];
      for (const [field, values] of rule.requiredValues) if (!field.includes('.') && values.size > 0) own.push({ field, values });
      if (own.length === 0) return undefined;
      constraints.push(own);
    }
    return new FlowPrefilter(constraints);
  }

  /** True when some rule's required values are all present on the line. */
  mayMatch(view: FlowLineView): boolean {
    if (view.header !== this.header) {
      const header = view.header;
      this.header = header;
      // Integer columns first: a Set lookup on an already parsed number is the cheapest test.
      const integerFirst = (constraints: readonly FieldConstraint[]): FieldConstraint[] =>
        [...constraints].sort((a, b) => (header.integer[header.column(b.field)] ?? 0) - (header.integer[header.column(a.field)] ?? 0));
      this.tests = this.rules.map((constraints) => integerFirst(constraints).map((constraint) => compileConstraint(header, constraint)));
    }
    for (const tests of this.tests) {
      let all = true;
      for (const test of tests) {
        if (!test(view)) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    return false;
  }
}
