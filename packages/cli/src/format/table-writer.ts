/**
 * Aligned text columns as docker prints its tables: Go's `text/tabwriter` (elastic
 * tabstops) with docker's settings, `minwidth 10, tabwidth 1, padding 3, padchar ' '`.
 *
 * Every cell but the last of a line is a column cell padded to its column's width; the
 * last cell of a line is written as is (docker's templates do not tab-terminate it). A
 * column is a run of contiguous lines that have a cell in it, as in Go.
 */

/** Layout settings of a {@link formatTable} call (Go tabwriter's `Init` parameters). */
export interface TableOptions {
  /** Minimal cell width including padding. Default 10 (docker's tables). */
  minWidth?: number;
  /** Padding added to the widest cell of a column. Default 3 (docker's tables). */
  padding?: number;
}

/** docker's table layout (`docker images`, `docker history`). */
export const DOCKER_TABLE: Required<TableOptions> = { minWidth: 10, padding: 3 };

/**
 * Lay out `rows` (each a list of cells) as aligned text, one `\n`-terminated line per row.
 * Widths count terminal columns (East Asian wide characters take two).
 */
export function formatTable(rows: readonly (readonly string[])[], opts: TableOptions = {}): string {
  const minWidth = opts.minWidth ?? DOCKER_TABLE.minWidth;
  const padding = opts.padding ?? DOCKER_TABLE.padding;
  const widths: number[][] = rows.map((r) => r.map(() => 0));
  layout(rows, 0, rows.length, 0, minWidth, padding, widths);
  let out = "";
  rows.forEach((row, i) => {
    row.forEach((cell, j) => {
      out += cell;
      if (j < row.length - 1)
        out += " ".repeat(Math.max(0, (widths[i]?.[j] ?? 0) - displayWidth(cell)));
    });
    out += "\n";
  });
  return out;
}

/**
 * Go tabwriter's `format`: find blocks of contiguous lines that have a column cell at
 * index `column`, size the column over the block, then recurse into the next column.
 */
function layout(
  rows: readonly (readonly string[])[],
  line0: number,
  line1: number,
  column: number,
  minWidth: number,
  padding: number,
  widths: number[][],
): void {
  let line = line0;
  while (line < line1) {
    if (column >= (rows[line]?.length ?? 0) - 1) {
      line++;
      continue;
    }
    const start = line;
    let width = minWidth;
    for (; line < line1 && column < (rows[line]?.length ?? 0) - 1; line++) {
      width = Math.max(width, displayWidth(rows[line]?.[column] ?? "") + padding);
    }
    for (let k = start; k < line; k++) {
      const w = widths[k];
      if (w) w[column] = width;
    }
    layout(rows, start, line, column + 1, minWidth, padding, widths);
  }
}

/** Terminal columns `s` takes: one per code point, two for East Asian wide ones. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += isWide(ch.codePointAt(0) ?? 0) ? 2 : 1;
  return w;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}
