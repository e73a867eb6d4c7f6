/**
 * DuckDB (@duckdb/node-api) over the same .json.gz files, run as its own process by run.ts:
 * read_json with only the two columns a filter on eventName needs, the filter, and a
 * GROUP BY eventName. Prints one JSON line: matched records, per-name counts, time, peak RSS.
 *
 *   node --import tsx duckdb.ts <dir> <threads> <names.json>
 */
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

async function main(): Promise<void> {
  const [dir, threads, namesFile] = process.argv.slice(2);
  if (dir === undefined || threads === undefined || namesFile === undefined) throw new Error('usage: duckdb.ts <dir> <threads> <names.json>');
  const names = JSON.parse(readFileSync(namesFile, 'utf8')) as string[];
  const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`;
  const instance = await DuckDBInstance.create(':memory:', { threads });
  const connection = await instance.connect();
  const started = performance.now();
  const sql = `
    SELECT r.eventName AS name, count(*) AS n
    FROM (
      SELECT unnest(Records) AS r
      FROM read_json(${quote(`${dir}/**/*.json.gz`)},
        format = 'auto', compression = 'gzip', maximum_object_size = 268435456,
        columns = {Records: 'STRUCT(eventName VARCHAR, eventSource VARCHAR)[]'})
    )
    WHERE r.eventName IN (${names.map(quote).join(', ')})
    GROUP BY 1 ORDER BY 1`;
  const reader = await connection.runAndReadAll(sql);
  const seconds = (performance.now() - started) / 1000;
  const counts: Record<string, number> = {};
  let matched = 0;
  for (const [name, n] of reader.getRows()) {
    counts[String(name)] = Number(n);
    matched += Number(n);
  }
  console.log(JSON.stringify({ matched, counts, seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
}

await main();
