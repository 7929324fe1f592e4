import { closeSync, existsSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.ts';

/**
 * Streams text (or bytes) to a file that appears only when complete: writes go to a temporary file
 * beside the target, renamed over it on commit() and removed on abort(), so a failed or
 * interrupted command never leaves a half-written output.
 */
export class AtomicTextFile {
  private readonly temporary: string;
  private readonly fd: number;
  private pending: string[] = [];
  private pendingLength = 0;

  /** `option` names the command's output option in the message about a missing folder. */
  constructor(
    readonly path: string,
    option = '--out',
  ) {
    const target = resolve(path);
    const folder = dirname(target);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new UsageError(`${option} ${path}: folder ${folder} does not exist`);
    }
    this.temporary = `${target}.partial-${process.pid}`;
    this.fd = openSync(this.temporary, 'w');
  }

  write(text: string): void {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength > 1 << 20) this.flush();
  }

  /** Binary content (a video), after any text written before it. */
  writeBytes(bytes: Uint8Array): void {
    this.flush();
    writeSync(this.fd, bytes);
  }

  commit(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.temporary, resolve(this.path));
  }

  abort(): void {
    closeSync(this.fd);
    rmSync(this.temporary, { force: true });
  }

  private flush(): void {
    if (this.pendingLength === 0) return;
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.pendingLength = 0;
  }
}
