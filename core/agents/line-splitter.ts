import { StringDecoder } from 'node:string_decoder';

// A line longer than this is emitted in pieces rather than held in memory without bound.
const MAX_LINE = 64 * 1024;

/** Turns a byte stream into whole lines (UTF-8 safe across chunk boundaries). */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.partial += this.decoder.write(chunk);
    let newline = this.partial.indexOf('\n');
    while (newline !== -1) {
      this.emit(this.partial.slice(0, newline).replace(/\r$/, ''));
      this.partial = this.partial.slice(newline + 1);
      newline = this.partial.indexOf('\n');
    }
    while (this.partial.length > MAX_LINE) {
      this.emit(this.partial.slice(0, MAX_LINE));
      this.partial = this.partial.slice(MAX_LINE);
    }
  }

  end(): void {
    this.partial += this.decoder.end();
    if (this.partial !== '') this.emit(this.partial);
    this.partial = '';
  }
}
