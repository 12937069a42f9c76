/**
 * Resident memory of this process, sampled on a timer. The local stack runs in-process (its SQS and DynamoDB
 * stand-ins on worker threads of the same process), so the process RSS is the stack's footprint plus the small
 * load driver of the benchmark.
 */

export const rssMb = (): number => process.memoryUsage.rss() / (1024 * 1024);

export interface RssSummary {
  samples: number;
  meanMb: number;
  maxMb: number;
}

export class RssSampler {
  private readonly values: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 100) {}

  start(): this {
    this.values.push(rssMb());
    this.timer = setInterval(() => this.values.push(rssMb()), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): RssSummary {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.values.push(rssMb());
    const maxMb = Math.max(...this.values);
    const meanMb = this.values.reduce((s, v) => s + v, 0) / this.values.length;
    return { samples: this.values.length, meanMb, maxMb };
  }
}
