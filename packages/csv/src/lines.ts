import type { Readable } from 'node:stream';

/**
 * Calls `onLine(text, line)` for every physical line of a byte stream, numbered from 1, whatever
 * the line endings (LF, CRLF, CR, mixed): one physical line is one record, so a stray quote or a bad
 * line can never swallow the good lines after it. The text excludes the line break. UTF-8, with a
 * leading byte-order mark removed. `onLine` returning false stops the reading.
 */
export function readLines(input: Readable, onLine: (text: string, line: number) => boolean | void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let carry = '';
    let line = 0;
    let afterCR = false;
    let first = true;
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      input.destroy();
      resolve();
    };
    input.setEncoding('utf8');
    input.on('error', reject);
    input.on('data', (chunk: string) => {
      if (stopped) return;
      let text = chunk;
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      let from = 0;
      // A CRLF split across two chunks: the LF belongs to the line already ended.
      if (afterCR && text.charCodeAt(0) === 10) from = 1;
      afterCR = false;
      const n = text.length;
      for (let i = from; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        const body = carry === '' ? text.slice(from, i) : carry + text.slice(from, i);
        carry = '';
        line++;
        if (onLine(body, line) === false) {
          stop();
          return;
        }
        if (c === 13) {
          if (i + 1 < n) {
            if (text.charCodeAt(i + 1) === 10) i++;
          } else {
            afterCR = true;
          }
        }
        from = i + 1;
      }
      if (from < n) carry += text.slice(from);
    });
    input.on('end', () => {
      if (stopped) return;
      if (carry !== '') {
        line++;
        onLine(carry, line);
      }
      resolve();
    });
  });
}
