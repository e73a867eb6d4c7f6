/**
 * One running service per state directory: a `lock` file holding the owner's pid. A lock left
 * by a process that no longer runs (killed, crashed) is taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks held by this process: a second service in the same process is refused too. */
const HELD = new Set<string>();

export class StateLock {
  private readonly path: string;
  private held = false;

  constructor(directory: string) {
    this.path = join(directory, 'lock');
  }

  /** Takes the lock, or throws naming the pid that holds it. */
  acquire(): void {
    if (HELD.has(this.path)) throw new Error('the state directory is in use by another watch in this process');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.path, `${process.pid}\n`, { flag: 'wx' });
        this.held = true;
        HELD.add(this.path);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(this.path, 'utf8').trim());
      } catch {
        // Removed meanwhile: try again.
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && running(owner)) {
        throw new Error(`the state directory is in use by another trailhound (pid ${owner}); give each watch its own state_dir`);
      }
      try {
        unlinkSync(this.path);
      } catch {
        // Someone else took it over first; the next attempt tells.
      }
    }
    throw new Error('could not take the state directory lock');
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    HELD.delete(this.path);
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}
