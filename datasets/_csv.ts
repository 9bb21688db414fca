// This module is browser compatible.
/**
 * A small CSV parser for the benchmark pair lists (RFC 4180: commas, double
 * quotes with `""` escapes, LF or CRLF line ends). Private to the readers.
 *
 * @module
 */

/**
 * Splits CSV text into rows of fields. Empty lines are dropped.
 *
 * @param text The CSV text.
 * @returns The rows, header included.
 * @throws {SyntaxError} When a quoted field is not closed or a quote appears
 * inside an unquoted field.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let wasQuoted = false;
  let line = 1;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== "" || wasQuoted) rows.push(row);
    row = [];
    field = "";
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === "\n") line++;
        field += c;
      }
    } else if (c === '"') {
      if (field !== "") throw new SyntaxError(`Cannot parse CSV: stray quote on line ${line}`);
      quoted = true;
      wasQuoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
      wasQuoted = false;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
    } else {
      if (wasQuoted) throw new SyntaxError(`Cannot parse CSV: text after a quote on line ${line}`);
      field += c;
    }
  }
  if (quoted) throw new SyntaxError(`Cannot parse CSV: unclosed quote on line ${line}`);
  if (field !== "" || row.length > 0 || wasQuoted) endRow();
  return rows;
}
