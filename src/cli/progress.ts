import { SingleBar, Presets } from 'cli-progress';

/** Reports progress of long work: a bar on a terminal, sparse plain lines otherwise (logs, CI, pipes). */
export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return plainProgress(stream);
  let bar: SingleBar | null = null;
  let current = '';
  return {
    update(label, done, total) {
      if (label !== current) {
        bar?.stop();
        current = label;
        bar = new SingleBar(
          { format: `${label.padEnd(20)} [{bar}] {percentage}% {value}/{total}`, stream },
          Presets.shades_classic,
        );
        bar.start(total, done);
      }
      bar?.setTotal(total);
      bar?.update(done);
    },
    stop() {
      bar?.stop();
      bar = null;
      current = '';
    },
  };
}

function plainProgress(stream: NodeJS.WriteStream): Progress {
  let current = '';
  let lastShown = 0;
  return {
    update(label, done, total) {
      const now = Date.now();
      if (label === current && done < total && now - lastShown < 2000) return;
      current = label;
      lastShown = now;
      stream.write(`${label}: ${done}/${total}\n`);
    },
    stop() {
      current = '';
    },
  };
}
