/** Recognising Parquet without loading a Parquet reader (vpcflow-parquet.ts loads one, on demand). */

/** True when the bytes start with the Parquet magic `PAR1`. */
export function isParquet(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31;
}
