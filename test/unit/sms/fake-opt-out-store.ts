/** An in-memory OptOutStore with the adapter's rules (dynamo-opt-out-store.ts), for the cores' unit tests. */
import {
  comparableSender,
  type OptOutEntry,
  type OptOutRecord,
  type OptOutStore,
} from '../../../functions/sms/inbound-ports';

export class InMemoryOptOutStore implements OptOutStore {
  readonly records = new Map<string, OptOutRecord>();
  /** Numbers asked for by each getMany call, and how many get calls were made. */
  readonly getManyCalls: string[][] = [];
  gets = 0;
  /** Set to make every read fail (the table unavailable). */
  failReads?: Error;

  async get(number: string): Promise<OptOutRecord | undefined> {
    this.gets++;
    if (this.failReads) throw this.failReads;
    const record = this.records.get(number);
    return record && structuredClone(record);
  }

  async getMany(numbers: readonly string[]): Promise<Map<string, OptOutRecord>> {
    this.getManyCalls.push([...numbers]);
    if (this.failReads) throw this.failReads;
    const found = new Map<string, OptOutRecord>();
    for (const number of numbers) {
      const record = this.records.get(number);
      if (record) found.set(number, structuredClone(record));
    }
    return found;
  }

  async optOut(number: string, entry: OptOutEntry): Promise<void> {
    const record = this.records.get(number) ?? { number, senders: [], history: [] };
    if (entry.umid !== undefined && record.history.some((h) => h.umid === entry.umid)) return;
    const wanted = comparableSender(entry.sender);
    if (!record.senders.some((s) => comparableSender(s.sender) === wanted)) record.senders.push({ ...entry });
    record.history.push({
      action: 'optOut',
      sender: entry.sender,
      at: entry.optedOutAt,
      via: entry.keyword,
      ...(entry.umid !== undefined && { umid: entry.umid }),
    });
    this.records.set(number, record);
  }

  async optIn(
    number: string,
    sender: string | undefined,
    at: string,
    via: string,
    umid?: string,
  ): Promise<string[]> {
    const record = this.records.get(number);
    if (!record) return [];
    const lifted = record.senders
      .filter((s) => sender === undefined || comparableSender(s.sender) === comparableSender(sender))
      .map((s) => s.sender);
    record.senders = record.senders.filter((s) => !lifted.includes(s.sender));
    for (const s of lifted)
      record.history.push({ action: 'optIn', sender: s, at, via, ...(umid !== undefined && { umid }) });
    return lifted;
  }
}
