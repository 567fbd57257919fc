import type { Span } from './ast.ts';

/** A source text with its line table, for turning offsets into 1-based lines and columns. */
export class SourceFile {
  readonly file: string;
  readonly text: string;
  /** Offset where each line starts; index 0 is line 1. */
  readonly lineStarts: number[];

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 10) this.lineStarts.push(i + 1);
      else if (code === 13 && text.charCodeAt(i + 1) !== 10) this.lineStarts.push(i + 1);
    }
  }

  /** The 1-based line holding `offset`. */
  lineOf(offset: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  /** The 1-based column of `offset` on its line. */
  columnOf(offset: number, line: number = this.lineOf(offset)): number {
    return offset - (this.lineStarts[line - 1] ?? 0) + 1;
  }

  span(start: number, end: number): Span {
    const line = this.lineOf(start);
    const endLine = end === start ? line : this.lineOf(end);
    return {
      file: this.file,
      line,
      column: this.columnOf(start, line),
      endLine,
      endColumn: this.columnOf(end, endLine),
    };
  }
}
