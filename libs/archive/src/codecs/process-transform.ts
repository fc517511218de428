import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import { IoError, UnsupportedError } from '@tresor/errors';
import type { Codec } from '../entry.js';
import { corruptData } from './corrupt-data.js';

/** How to run an external compression program as a stream. */
export interface ProcessCodecCommand {
  readonly codec: Codec;
  readonly direction: 'compress' | 'decompress';
  readonly program: string;
  readonly args: readonly string[];
}

const STDERR_LIMIT = 1024;

/**
 * Streams bytes through an external program (stdin → stdout) with backpressure both ways, so
 * memory stays at a pipe buffer or two. A non-zero exit fails the stream: IntegrityError when
 * decompressing (the input was bad), IoError when compressing.
 */
export function createProcessTransform(command: ProcessCodecCommand): Duplex {
  return new ProcessTransform(command);
}

class ProcessTransform extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';

  constructor(private readonly command: ProcessCodecCommand) {
    super();
    // A clean environment: XZ_OPT, BZIP2 and friends must not change what gets written.
    this.child = spawn(command.program, [...command.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C' },
    });
    this.child.on('error', (err) => this.destroy(this.spawnFailure(err)));
    // EPIPE when the program quits early; its exit status says why.
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.child.stdout.pause();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < STDERR_LIMIT) this.stderr += chunk.toString('utf8');
    });
    this.child.on('close', (code, signal) => this.onExit(code, signal));
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (stdin.destroyed || stdin.write(chunk)) {
      done();
      return;
    }
    const resume = () => {
      stdin.off('drain', resume);
      stdin.off('close', resume);
      done();
    };
    stdin.on('drain', resume);
    stdin.on('close', resume);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.child.stdin.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    done(error);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.destroyed) return;
    if (code === 0) {
      this.push(null);
      return;
    }
    const why = this.stderr.trim().split('\n')[0] || (signal ? `killed by ${signal}` : `exit status ${code}`);
    const { codec, program, direction } = this.command;
    this.destroy(
      direction === 'decompress'
        ? corruptData(codec, new Error(why))
        : new IoError(`${program} failed to compress: ${why}`),
    );
  }

  private spawnFailure(err: NodeJS.ErrnoException): Error {
    const { codec, program } = this.command;
    if (err.code === 'ENOENT') {
      return new UnsupportedError(
        `${codec} needs the '${program}' program, which is not installed; install it or choose another codec`,
      );
    }
    return new IoError(`cannot run ${program} for ${codec}: ${err.message}`, { cause: err });
  }
}
