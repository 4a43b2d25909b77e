// Small text formatters shared by the commands.

/** "0x" and `digits` lowercase hex digits of an unsigned value. */
export function hex(value: number | bigint, digits: number): string {
  const v = typeof value === "bigint" ? BigInt.asUintN(64, value) : BigInt(value >>> 0);
  return `0x${v.toString(16).padStart(digits, "0")}`;
}

/** A byte count with a human unit: "1536 (1.5 KiB)". */
export function bytes(n: number): string {
  if (n < 1024) return `${n}`;
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, "KiB"] : [n / (1024 * 1024), "MiB"];
  return `${n} (${value.toFixed(1)} ${unit})`;
}

/** Rows as columns padded to the widest cell; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .replace(/\s+$/, ""),
  );
}
