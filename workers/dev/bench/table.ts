export interface Row {
  metric: string;
  ours: string;
  baseline: string;
  note: string;
}

export const mbps = (bytes: number, ms: number) => `${((bytes * 8) / (ms / 1000) / 1e6).toFixed(1)} Mbit/s`;

export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** The table as Markdown, for the README's Performance section. */
export function markdown(rows: Row[]): string {
  const lines = ["| metric | ours | baseline | note |", "| --- | --- | --- | --- |"];
  for (const r of rows) lines.push(`| ${r.metric} | ${r.ours} | ${r.baseline} | ${r.note} |`);
  return lines.join("\n");
}
