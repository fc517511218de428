// A table with a caption and column headers; rows are reachable with Tab, move with ↑/↓,
// Home/End, and Enter (or click) activates a row when `onActivate` is given.
import { useRef } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';

/** One column: its header and how to render a row's cell. */
export interface Column<Row> {
  key: string;
  header: string;
  cell: (row: Row) => ReactNode;
  /** Right-align numbers. */
  numeric?: boolean;
}

/** Props of DataTable. */
export interface DataTableProps<Row> {
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  rowKey: (row: Row) => string;
  onActivate?: (row: Row) => void;
  empty?: string;
  /** Show the caption to sighted users too (it is always read by screen readers). */
  showCaption?: boolean;
}

/** An accessible, keyboard-navigable table. */
export function DataTable<Row>({ caption, columns, rows, rowKey, onActivate, empty = 'Nothing to show.', showCaption = false }: DataTableProps<Row>) {
  const body = useRef<HTMLTableSectionElement>(null);

  function onKeyDown(event: KeyboardEvent<HTMLTableRowElement>, row: Row, index: number) {
    const rowsEls = body.current?.querySelectorAll<HTMLTableRowElement>('tr[data-row]');
    if (!rowsEls) return;
    const moves: Record<string, number> = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: rowsEls.length - 1 };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      rowsEls[Math.max(0, Math.min(rowsEls.length - 1, target))]?.focus();
    } else if ((event.key === 'Enter' || event.key === ' ') && onActivate) {
      event.preventDefault();
      onActivate(row);
    }
  }

  return (
    <div className="table-wrap">
      <table className="data-table">
        <caption className={showCaption ? undefined : 'visually-hidden'}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.numeric ? 'numeric' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns.length} className="empty">{empty}</td>
            </tr>
          )}
          {rows.map((row, index) => (
            <tr
              key={rowKey(row)}
              data-row
              tabIndex={0}
              className={onActivate ? 'activatable' : undefined}
              onKeyDown={(e) => onKeyDown(e, row, index)}
              onClick={onActivate ? () => onActivate(row) : undefined}
            >
              {columns.map((c) => (
                <td key={c.key} className={c.numeric ? 'numeric' : undefined}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
