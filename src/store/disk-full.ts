import { unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** What a full disk looks like while it lasts: the first failed write's code and file. */
export interface DiskFull {
  code: string;
  path: string;
  since: number;
  message: string;
}

const FULL_CODES = new Set(["ENOSPC", "EDQUOT"]);

/** A write refused for lack of space (ENOSPC) or quota (EDQUOT). */
export function isDiskFull(err: unknown): err is NodeJS.ErrnoException {
  return typeof err === "object" && err !== null && FULL_CODES.has((err as NodeJS.ErrnoException).code ?? "");
}

/** A failure told in words (a run's or a send's reason): the code, and the file when it says. */
const DISK_FULL_TEXT = /\b(ENOSPC|EDQUOT)\b[^']*(?:'([^']+)')?/;

/** A reason that says a full disk was the cause. */
export const mentionsDiskFull = (reason: string | undefined): boolean => DISK_FULL_TEXT.test(reason ?? "");

/** The file a write was for: an atomic write's temp name (`<file>.<pid>.<n>.tmp`) is reported as its target. */
const target = (path: string) => path.replace(/\.\d+\.\d+\.tmp$/, "");

/** "the state dir is full (ENOSPC at <path>)" for a disk-full error. */
export function diskFullMessage(err: NodeJS.ErrnoException, fallbackPath: string): string {
  return `the state dir is full (${err.code} at ${target(err.path ?? fallbackPath)})`;
}

/** A probe this big must fit before writes are called possible again (a line or two would, a real record may not). */
const PROBE_BYTES = 16 * 1024;

export interface DiskWatchOptions {
  /** The state dir: the probe file is written here. */
  dir: string;
  /** How often the probe tries while the disk is full. Default 1 s. */
  probeEveryMs?: number;
  /** The disk became full (with what), or writable again (null). */
  onChange?: (full: DiskFull | null) => void;
  now?: () => number;
}

/**
 * Whether the state dir's disk is full. Any store that sees ENOSPC/EDQUOT reports it
 * here; from then on a small probe file is written (and removed) every second until it
 * fits, and only then are writes called possible again — a single small append that
 * happens to fit does not end the episode. Knows no daemon: the gateway listens.
 */
export class DiskWatch {
  private state: DiskFull | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Disk-full errors seen so far: lets a caller ask "did one happen while I worked?". */
  failures = 0;

  constructor(private readonly opts: DiskWatchOptions) {}

  /** The state dir it watches (a message's path when the failed write did not say). */
  get dir(): string {
    return this.opts.dir;
  }

  get full(): DiskFull | null {
    return this.state;
  }

  /**
   * Report a failure known only by its text (a run's or a send's reason, say
   * "ENOSPC: no space left on device, open '<path>'"); true when it was a full disk.
   */
  noteText(reason: string | undefined): boolean {
    const m = DISK_FULL_TEXT.exec(reason ?? "");
    return m ? this.note({ code: m[1], path: m[2] ?? this.opts.dir }) : false;
  }

  /** Report a failed write; true when it was a full disk. */
  note(err: unknown): boolean {
    if (!isDiskFull(err)) return false;
    this.failures += 1;
    if (this.state) return true;
    this.state = { code: err.code!, path: target(err.path ?? this.opts.dir), since: (this.opts.now ?? Date.now)(), message: diskFullMessage(err, this.opts.dir) };
    this.opts.onChange?.(this.state);
    this.schedule();
    return true;
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.probe();
    }, this.opts.probeEveryMs ?? 1_000);
    // A probe alone never keeps the process up.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async probe(): Promise<void> {
    if (!this.state || this.stopped) return;
    const path = join(this.opts.dir, ".disk-probe");
    try {
      await writeFile(path, new Uint8Array(PROBE_BYTES));
      await unlink(path);
    } catch {
      await unlink(path).catch(() => {});
      return this.schedule();
    }
    this.state = null;
    this.opts.onChange?.(null);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
