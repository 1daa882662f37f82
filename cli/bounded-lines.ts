// Lines of a text stream with a bound on each line's length that holds WHILE reading: a line is
// refused as soon as it grows past the bound, so a huge input without a newline is never held in
// memory whole (node:readline only yields a line once it has buffered all of it).
import type { Readable } from 'node:stream';

export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
  readonly lineNumber: number;
  readonly maxChars: number;
  constructor(lineNumber: number, maxChars: number) {
    super(`line ${lineNumber}: longer than ${maxChars} characters`);
    this.lineNumber = lineNumber;
    this.maxChars = maxChars;
  }
}

const withoutCr = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);

/** Yields the lines (split on \n, a trailing \r dropped); throws LineTooLongError once a line passes maxChars. */
export async function* boundedLines(input: Readable, maxChars: number): AsyncGenerator<string> {
  input.setEncoding('utf8');
  let partial: string[] = [];
  let partialChars = 0;
  let lineNumber = 0;
  for await (const chunk of input as AsyncIterable<string>) {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      lineNumber++;
      // +1: a \r before the \n is not part of the line.
      if (partialChars + (nl - start) > maxChars + 1) throw new LineTooLongError(lineNumber, maxChars);
      const line = withoutCr(partial.join('') + chunk.slice(start, nl));
      partial = [];
      partialChars = 0;
      if (line.length > maxChars) throw new LineTooLongError(lineNumber, maxChars);
      yield line;
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (rest === 0) continue;
    partialChars += rest;
    if (partialChars > maxChars + 1) throw new LineTooLongError(lineNumber + 1, maxChars);
    partial.push(chunk.slice(start));
  }
  if (partialChars > 0) {
    const line = withoutCr(partial.join(''));
    if (line.length > maxChars) throw new LineTooLongError(lineNumber + 1, maxChars);
    yield line;
  }
}
