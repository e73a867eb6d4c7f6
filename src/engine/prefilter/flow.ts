/**
 * Which flow-log lines a Sigma rule could match, decided on the scanner's byte view before any
 * record is built. A rule's required values (src/sigma/required-values.ts) say, per field, the
 * values every matching record holds one of: a line whose column holds none of them cannot
 * match, so its record is never built. Most flow rules pin a port, an action or a protocol,
 * which keeps record building to the few lines that may match.
 *
 * A rule with no required value on a top-level field gives no prefilter: then every line may
 * match (FlowPrefilter.compile returns undefined) and records are built for all.
 *
 * A rule's required networks (src/sigma/required-cidrs.ts: the `field|cidr` selections its
 * condition requires) narrow it further: a line whose column holds an IPv4 address outside all
 * of a field's networks cannot match either (`dstaddr|cidr: 10.0.0.0/8` in a rule pinning
 * `dstport: 22` leaves out the SSH connections our hosts open to the internet, by far the most
 * common port-22 lines).
 */
import type { CompiledDetectionRule } from '../../sigma/types.ts';
import type { FlowHeader } from '../../formats/vpcflow/fields.ts';
import type { FlowLineView } from '../../formats/vpcflow/line-scan.ts';

type LineTest = (view: FlowLineView) => boolean;

interface FieldConstraint {
  field: string;
  values: ReadonlySet<string>;
}

/** A top-level field whose value, when it is an IPv4 address, must lie in one of these ranges. */
interface CidrConstraint {
  field: string;
  /** Inclusive [start, end] of each IPv4 network, as unsigned 32-bit integers. */
  v4: readonly number[];
}

/**
 * The rule's required networks on top-level fields, as IPv4 ranges. IPv6 networks never hold
 * a dotted quad: only the IPv4 ones can admit an IPv4 address (an IPv6-only list still
 * constrains: no IPv4 address lies in it).
 */
function cidrConstraints(rule: CompiledDetectionRule): CidrConstraint[] {
  const out: CidrConstraint[] = [];
  for (const [field, networks] of rule.requiredCidrs) {
    if (field === '' || field.includes('.')) continue;
    const v4: number[] = [];
    for (const network of networks) if (network.family === 4) v4.push(network.v4, network.v4 + 2 ** (32 - network.prefix) - 1);
    out.push({ field, v4 });
  }
  return out;
}

/**
 * The column is not an IPv4 address outside every network: `|cidr` matches an IPv4 address
 * only in an IPv4 network. Anything but a dotted quad (IPv6, `-`) is left to the rule.
 */
function ipv4In(column: number, ranges: readonly number[]): LineTest {
  const bounds = Float64Array.from(ranges);
  return (view) => {
    const ip = view.ipv4(column);
    if (ip < 0) return true;
    for (let i = 0; i < bounds.length; i += 2) if (ip >= (bounds[i] as number) && ip <= (bounds[i + 1] as number)) return true;
    return false;
  };
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

  private constructor(
    private readonly rules: readonly FieldConstraint[][],
    private readonly cidrs: readonly CidrConstraint[][],
  ) {}

  /** The prefilter of the rules, or undefined when one of them could match any line. */
  static compile(rules: readonly CompiledDetectionRule[]): FlowPrefilter | undefined {
    const constraints: FieldConstraint[][] = [];
    const cidrs: CidrConstraint[][] = [];
    for (const rule of rules) {
      const own: FieldConstraint[] = [];
      for (const [field, values] of rule.requiredValues) if (!field.includes('.') && values.size > 0) own.push({ field, values });
      if (own.length === 0) return undefined;
      constraints.push(own);
      cidrs.push(cidrConstraints(rule));
    }
    return new FlowPrefilter(constraints, cidrs);
  }

  /** True when some rule's required values are all present on the line. */
  mayMatch(view: FlowLineView): boolean {
    if (view.header !== this.header) {
      const header = view.header;
      this.header = header;
      // Integer columns first: a Set lookup on an already parsed number is the cheapest test.
      const integerFirst = (constraints: readonly FieldConstraint[]): FieldConstraint[] =>
        [...constraints].sort((a, b) => (header.integer[header.column(b.field)] ?? 0) - (header.integer[header.column(a.field)] ?? 0));
      // Then the networks, on address columns the scanner already parsed. A field the header
      // holds in several columns is left out: its record value is the last of them.
      const once = (field: string): number => {
        const column = header.column(field);
        return column >= 0 && header.fields.lastIndexOf(field) === column ? column : -1;
      };
      this.tests = this.rules.map((constraints, r) => [
        ...integerFirst(constraints).map((constraint) => compileConstraint(header, constraint)),
        ...(this.cidrs[r] ?? []).flatMap((cidr) => (once(cidr.field) < 0 ? [] : [ipv4In(once(cidr.field), cidr.v4)])),
      ]);
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
