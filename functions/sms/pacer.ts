/**
 * Proactive pacing of 8x8 SMS calls (SETTINGS.smsRateLimitPerSecond): every worker instance draws from one token
 * bucket per 8x8 sub-account, so together they send at the configured rate instead of bouncing off 429.
 *
 * The bucket is a row of time slots (SLOT_MS each). Slot k holds slotCapacity(k) calls, spread so that a second's
 * slots add up to the rate exactly, all in the first part of the second (the rest, the edge guard, setting
 * SMS_PACER_EDGE_GUARD_MS, is left empty so a late call still counts in its own second); a caller takes a place in
 * the first slot with room (a conditional counter in the store, one write) and calls at its place's time within the
 * slot, so calls are spread over the second's open part rather than bunched at its start. A call due now that finds
 * itself in the edge guard does not wait for the next second when this second has places left (see reserve). A 429 still comes back (8x8's limit can be lower than configured, or other
 * clients share the sub-account): the pacer then lowers the shared rate (multiplicatively, not below a floor)
 * and lets it recover linearly — AIMD — so the instances learn the real limit together.
 *
 * This module is the pure core: slot arithmetic, the learnt rate, and the walk over slots against a PacerStore
 * port (functions/sms/dynamo-pacer-store.ts in Lambda and locally). Time comes from the Clock argument.
 */
import type { Clock } from '../shared/runtime';

/** Slot length: short enough to spread a second's calls, long enough that each slot counter is a different item. */
export const SLOT_MS = 100;
/** A 429 multiplies the learnt rate by this (multiplicative decrease). */
export const DECREASE_FACTOR = 0.8;
/** The learnt rate never goes below this share of the configured one (nor below MIN_RATE). */
export const FLOOR_SHARE = 0.1;
export const MIN_RATE = 0.1;
/** After a decrease the rate grows back by this share of the configured rate per second (additive increase). */
export const RECOVERY_SHARE_PER_SECOND = 0.1;
/** 429s within this long of the last decrease answer calls made before it: they do not lower the rate again. */
export const DECREASE_HOLD_MS = 1_000;
/** How long an instance trusts its copy of the shared learnt rate. */
export const RATE_REFRESH_MS = 1_000;
/** Store writes one reservation may spend on full slots before it gives up (bounds the cost of contention). */
export const MAX_TAKES_PER_RESERVATION = 40;
/** The preparation lead (see Pacer.leadMs) never exceeds this. */
export const MAX_LEAD_MS = 1_000;
/** Weight of the latest preparation in the lead's moving average. */
const LEAD_WEIGHT = 0.3;

/** The learnt rate after the last 429: `rate` at `at` (epoch ms), recovering from there. */
export interface LearntRate {
  rate: number;
  at: number;
}

/** Where the shared bucket lives (one DynamoDB table; see dynamo-pacer-store.ts for the cost per call). */
export interface PacerStore {
  /**
   * Takes a place in `slot` if fewer than `capacity` are taken: the place's number (1-based), or undefined when the
   * slot is full.
   */
  take(slot: number, capacity: number, expiresAtMs: number): Promise<number | undefined>;
  readRate(): Promise<LearntRate | undefined>;
  /** Stores `next` unless the rate was lowered after `holdSinceMs` (by any instance); true if it was stored. */
  lowerRate(next: LearntRate, holdSinceMs: number): Promise<boolean>;
}

/** The slot holding epoch millisecond `ms`. */
export const slotOf = (ms: number): number => Math.floor(ms / SLOT_MS);
export const slotStart = (slot: number): number => slot * SLOT_MS;

/** Slots in one second (8x8 counts requests per whole second). */
export const SLOTS_PER_SECOND = 1000 / SLOT_MS;
/**
 * The last part of every second holds no places (SMS_PACER_EDGE_GUARD_MS, rounded up to whole slots; this is its
 * default): a call that reaches 8x8 late (its timer fired late, the request took long to build or to travel, the
 * clocks differ) still lands in the second it was counted in, instead of spending the next second's limit on top of
 * that second's own calls. 8x8 does not say how it aligns its window; a late call is what happens, an early one
 * cannot (nothing leaves before its place).
 */
export const DEFAULT_EDGE_GUARD_MS = 300;

/** Slots of a second that hold places with an edge guard of `edgeGuardMs` (at least one). */
export function openSlotsPerSecond(edgeGuardMs: number): number {
  return Math.max(1, SLOTS_PER_SECOND - Math.ceil(Math.max(0, edgeGuardMs) / SLOT_MS));
}

export const DEFAULT_OPEN_SLOTS = openSlotsPerSecond(DEFAULT_EDGE_GUARD_MS);

/**
 * The order in which a second's `open` slots take calls: the middle first, then spread out (the slots under the
 * binary fractions 1/2, 1/4, 3/4, 3/8, 5/8, 1/8, 7/8, … of the open part; for seven slots 3, 1, 5, 2, 4, 0, 6).
 * Every rate fills a prefix of this order, so a slot's capacity only grows with the rate: instances pacing at
 * different learnt rates (one has seen a 429, another not yet) together never put more calls in a second than the
 * highest of their rates allows. (Patterns that spread each rate evenly on its own do not nest: two rates could
 * each fill different slots and together exceed either.) Every instance must use the same edge guard.
 */
export function fillOrder(open: number): number[] {
  const order: number[] = [];
  for (let level = 1; order.length < open; level++) {
    const steps = 2 ** level;
    const fractions = Array.from({ length: steps / 2 }, (_, j) => (2 * j + 1) / steps);
    fractions.sort((a, b) => Math.abs(a - 0.5) - Math.abs(b - 0.5) || a - b);
    for (const fraction of fractions) {
      const slot = Math.floor(fraction * open);
      if (!order.includes(slot)) order.push(slot);
    }
  }
  return order;
}

/** Each open slot's rank in fillOrder(open), per number of open slots (computed once). */
const fillRanks = new Map<number, number[]>();
function fillRank(open: number): number[] {
  let rank = fillRanks.get(open);
  if (!rank) {
    rank = [];
    fillOrder(open).forEach((slot, i) => (rank![slot] = i));
    fillRanks.set(open, rank);
  }
  return rank;
}

/**
 * Calls slot `slot` holds at `rate` per second with `open` open slots a second. Second s holds the whole calls the
 * running total (rate × seconds) crosses in it, so any n whole seconds hold rate × n within one and never more than
 * ⌈rate⌉ each; those calls fill the second's open slots in fillOrder (round after round at high rates). Integer
 * arithmetic (the rate in 1/1000 steps), so every instance computes the same capacities.
 */
export function slotCapacity(slot: number, rate: number, open = DEFAULT_OPEN_SLOTS): number {
  const second = Math.floor(slot / SLOTS_PER_SECOND);
  const index = slot - second * SLOTS_PER_SECOND;
  if (index >= open) return 0;
  const calls = callsInSecond(second, rate);
  const rounds = Math.floor(calls / open);
  return rounds + (fillRank(open)[index]! < calls - rounds * open ? 1 : 0);
}

/** Calls epoch second `second` holds at `rate` per second (see slotCapacity). */
export function callsInSecond(second: number, rate: number): number {
  const perThousandSeconds = Math.round(rate * 1000);
  // s × rate split at whole thousands of seconds, so the products stay exact doubles at epoch seconds.
  const crossed = (s: number) => {
    const thousands = Math.floor(s / 1000);
    return thousands * perThousandSeconds + Math.floor(((s - thousands * 1000) * perThousandSeconds) / 1000);
  };
  return crossed(second + 1) - crossed(second);
}

/** When the `place`-th call of a slot with `capacity` calls goes: evenly spread over the slot. */
export function placeTime(slot: number, place: number, capacity: number): number {
  return slotStart(slot) + Math.floor(((place - 1) * SLOT_MS) / Math.max(1, capacity));
}

/** The rate in force at `nowMs`: the configured one, or the learnt one recovering towards it. */
export function effectiveRate(configured: number, learnt: LearntRate | undefined, nowMs: number): number {
  if (!learnt) return configured;
  const recovered =
    learnt.rate + (configured * RECOVERY_SHARE_PER_SECOND * Math.max(0, nowMs - learnt.at)) / 1000;
  return Math.min(configured, recovered);
}

/** The rate after a 429 at `nowMs`: lowered from the one in force, bounded below. */
export function loweredRate(configured: number, learnt: LearntRate | undefined, nowMs: number): LearntRate {
  const floor = Math.max(MIN_RATE, configured * FLOOR_SHARE);
  return { rate: Math.max(floor, effectiveRate(configured, learnt, nowMs) * DECREASE_FACTOR), at: nowMs };
}

/** A 429 lowers the rate only once per DECREASE_HOLD_MS (later ones answer calls made at the old rate). */
export function shouldLower(learnt: LearntRate | undefined, nowMs: number): boolean {
  return !learnt || nowMs - learnt.at >= DECREASE_HOLD_MS;
}

/** Slot counters outlive their slot by this long before DynamoDB's TTL may remove them. */
const SLOT_TTL_MS = 3_600_000;

/**
 * One instance's handle on the shared bucket. It keeps a copy of the learnt rate (refreshed every RATE_REFRESH_MS)
 * and the first slot it knows to have room, so a busy instance does not spend writes on slots it saw full.
 */
export class Pacer {
  private learnt: LearntRate | undefined;
  private learntReadAt = Number.NEGATIVE_INFINITY;
  /** Slots before this one were full (or past) when this instance last looked. */
  private firstOpenSlot = 0;
  /** Moving average of how long a call's preparation took (ms). */
  private preparationMs = 0;
  private refreshing: Promise<void> | undefined;
  /** Slots of each second that hold places (SETTINGS.smsPacerEdgeGuardMs). */
  private readonly open: number;

  constructor(
    private readonly configuredRate: number,
    private readonly store: PacerStore,
    private readonly clock: Clock,
    edgeGuardMs = DEFAULT_EDGE_GUARD_MS,
  ) {
    this.open = openSlotsPerSecond(edgeGuardMs);
  }

  /**
   * The rate this instance paces at now (per second). The shared learnt rate is read once, then refreshed in the
   * background when older than RATE_REFRESH_MS, so a call does not wait for that read.
   */
  async rate(): Promise<number> {
    const now = this.clock.now().getTime();
    if (now - this.learntReadAt >= RATE_REFRESH_MS) {
      this.refreshing ??= this.store
        .readRate()
        .then((learnt) => {
          this.learnt = learnt;
          this.learntReadAt = this.clock.now().getTime();
        })
        .finally(() => {
          this.refreshing = undefined;
        });
      // Only the first read is waited for; later a stale copy serves until the refresh lands.
      if (this.learntReadAt === Number.NEGATIVE_INFINITY) await this.refreshing;
      else this.refreshing.catch(() => undefined);
    }
    return effectiveRate(this.configuredRate, this.learnt, now);
  }

  /**
   * Reserves one 8x8 call at or after `earliestMs` and no later than `latestMs`: the epoch ms to call at, or
   * undefined when every slot up to `latestMs` is taken (then nothing was reserved).
   */
  async reserve(earliestMs: number, latestMs: number): Promise<number | undefined> {
    const rate = await this.rate();
    const last = slotOf(latestMs);
    let slot = Math.max(slotOf(earliestMs), this.firstOpenSlot);
    let takes = 0;
    const now = this.clock.now().getTime();
    if (slot === slotOf(now) && earliestMs <= now) {
      const spare = await this.spareOfThisSecond(now, rate);
      takes += spare.takes;
      if (spare.at !== undefined) return spare.at;
    }
    for (; slot <= last && takes < MAX_TAKES_PER_RESERVATION; slot++) {
      const capacity = slotCapacity(slot, rate, this.open);
      if (capacity === 0) continue;
      takes++;
      const place = await this.store.take(slot, capacity, slotStart(slot) + SLOT_TTL_MS);
      if (place === undefined) {
        this.firstOpenSlot = slot + 1;
        continue;
      }
      this.firstOpenSlot = slot;
      return Math.max(earliestMs, placeTime(slot, place, capacity));
    }
    return undefined;
  }

  /**
   * A call due now in the edge guard of second s would wait for the next second's first place (up to the guard's
   * length: what a lone SMS on an idle queue, or a cold worker's first SMS, waited). It may go now instead when
   * second s has a place left in its last open slot, which has passed and would go unused: s then holds no more
   * calls than its share. It also takes a place in second s+1, so that if it reaches 8x8 late it is counted there
   * within s+1's share too: whichever second 8x8 counts it in, that second stays within the rate. Two writes
   * instead of one, and one of the two places goes unused; only for calls in the guard with nothing in this
   * instance's sight ahead of them (a backlog's calls are placed ahead and never come here). `at` is now, or
   * undefined (then the places taken, if any, are left unused and the call is placed as usual).
   */
  private async spareOfThisSecond(now: number, rate: number): Promise<{ at?: number; takes: number }> {
    const slot = slotOf(now);
    const second = Math.floor(slot / SLOTS_PER_SECOND);
    if (slot - second * SLOTS_PER_SECOND < this.open) return { takes: 0 };
    const lastOpen = this.lastOpenSlotWithCapacity(second, rate);
    const nextFirst = this.firstSlotWithCapacity(second + 1, rate);
    if (lastOpen === undefined || nextFirst === undefined) return { takes: 0 };
    const here = await this.store.take(
      lastOpen,
      slotCapacity(lastOpen, rate, this.open),
      slotStart(lastOpen) + SLOT_TTL_MS,
    );
    if (here === undefined) return { takes: 1 };
    const next = await this.store.take(
      nextFirst,
      slotCapacity(nextFirst, rate, this.open),
      slotStart(nextFirst) + SLOT_TTL_MS,
    );
    return next === undefined ? { takes: 2 } : { at: now, takes: 2 };
  }

  private lastOpenSlotWithCapacity(second: number, rate: number): number | undefined {
    for (let index = this.open - 1; index >= 0; index--) {
      const slot = second * SLOTS_PER_SECOND + index;
      if (slotCapacity(slot, rate, this.open) > 0) return slot;
    }
    return undefined;
  }

  private firstSlotWithCapacity(second: number, rate: number): number | undefined {
    for (let index = 0; index < this.open; index++) {
      const slot = second * SLOTS_PER_SECOND + index;
      if (slotCapacity(slot, rate, this.open) > 0) return slot;
    }
    return undefined;
  }

  /**
   * How long before its place a call should start preparing (starting the attempts of a batch), so that it leaves
   * on time: a late call lands in the same second as the next one and spends the limit twice. Learnt from
   * preparationTook, at most MAX_LEAD_MS.
   */
  leadMs(): number {
    return Math.min(MAX_LEAD_MS, Math.ceil(this.preparationMs));
  }

  preparationTook(ms: number): void {
    this.preparationMs = this.preparationMs * (1 - LEAD_WEIGHT) + Math.max(0, ms) * LEAD_WEIGHT;
  }

  /** 8x8 answered 429: lowers the shared rate (once per DECREASE_HOLD_MS across every instance). */
  async rateLimited(): Promise<void> {
    const now = this.clock.now().getTime();
    await this.rate();
    if (!shouldLower(this.learnt, now)) return;
    const next = loweredRate(this.configuredRate, this.learnt, now);
    if (await this.store.lowerRate(next, now - DECREASE_HOLD_MS)) this.learnt = next;
    else this.learntReadAt = now - RATE_REFRESH_MS; // another instance lowered it: read theirs next time
  }
}
