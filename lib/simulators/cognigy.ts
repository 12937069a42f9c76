/**
 * Simulator of the Cognigy Endpoint service's `inject` and `notify` routes (reference/cognigy.md §2):
 * `POST /inject/{URLToken}` runs the Flow with the input, `POST /notify/{URLToken}` shows text to the user.
 * Body `{userId, sessionId, text, data, source?}`; the URLToken in the path is the credential.
 *
 * It is also a Cognigy **REST Endpoint** (Cognigy/Documentation docs/ai/deploy/endpoint-reference/rest.md):
 * `POST /{URLToken}` with `{userId, sessionId, text?, data?}` answers the Flow's outputs synchronously,
 * `{text, data, outputStack: [{text, data, traceId, disableSensitiveLogging, source: "bot"}], userId, sessionId}`.
 * Its Flow is scripted per URLToken (setRestScript: a list of outputs per turn of a session); without a script it
 * is an echo bot ("You said: <text> (turn n)"), so the local stack has a working SMS bot.
 *
 * Cognigy does not document success or error bodies for these routes; the simulator answers 200 `{}` and 400 for a
 * body without userId/sessionId or that is not JSON. Outages (any 4xx/5xx, or a held socket) and latency are
 * injectable; calls refused during an outage are kept apart from delivered ones, so a test can tell "reached the
 * Flow" from "was tried".
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Simulator } from '../local/types';
import {
  BodyTooLargeError,
  NOT_JSON,
  Router,
  SimHttpServer,
  Waiters,
  dispatch,
  handleControl,
  parseJson,
  readBody,
  sendJson,
  sleep,
  type Response,
  type RouteContext,
} from './http';

export type CognigyMode = 'inject' | 'notify';
/** Every route of the Endpoint: the push routes and the REST Endpoint. */
export type CognigyRoute = CognigyMode | 'rest';

export interface CognigyCallBody {
  userId: string;
  sessionId: string;
  text?: unknown;
  data?: unknown;
  source?: unknown;
  [key: string]: unknown;
}

/** A call the Endpoint accepted (delivered to the session). */
export interface CognigyCall {
  seq: number;
  mode: CognigyMode;
  urlToken: string;
  body: CognigyCallBody;
  receivedAt: string;
}

/** A call refused by an injected outage (or held until the client gave up). */
export interface RejectedCognigyCall {
  seq: number;
  mode: CognigyRoute;
  urlToken: string;
  /** The parsed body (may be anything the client sent). */
  body: unknown;
  receivedAt: string;
  /** The HTTP status answered, or `timeout` when the socket was held. */
  status: number | 'timeout';
}

/** How many calls an outage lasts: a number, or `untilCleared` (the default). */
const outageCount = z.union([z.number().int().positive(), z.literal('untilCleared')]).optional();
/** Which routes an outage takes down (default all: Cognigy is down); only calls to these count against `count`. */
const outageRoutes = z
  .array(z.enum(['inject', 'notify', 'rest']))
  .min(1)
  .optional();

export const cognigyOutageSchema = z.union([
  z
    .object({
      /** Answer this status (e.g. 503, 429, 500, or 404 for an unknown URLToken) instead of delivering. */
      status: z.number().int().min(400).max(599),
      /** How many calls the outage lasts; omitted or `untilCleared` = until clearOutage(). */
      count: outageCount,
      /** `Retry-After` seconds on the answer. */
      retryAfter: z.number().int().min(0).optional(),
      routes: outageRoutes,
    })
    .strict(),
  z
    .object({
      /** Hold the socket without answering until the client gives up. */
      kind: z.literal('timeout'),
      count: outageCount,
      routes: outageRoutes,
    })
    .strict(),
]);
export type CognigyOutage = z.infer<typeof cognigyOutageSchema>;

const outageControlSchema = z.union([cognigyOutageSchema, z.object({ clear: z.literal(true) }).strict()]);
const latencyControlSchema = z.object({ ms: z.number().min(0) }).strict();

/** One output of a scripted REST Endpoint Flow turn (a Say node): text, data or both. */
export const restOutputSchema = z
  .object({ text: z.string().optional(), data: z.record(z.string(), z.unknown()).optional() })
  .strict();
export type RestOutput = z.infer<typeof restOutputSchema>;

export const restScriptSchema = z
  .object({
    /** The outputs of each turn of a session, in order: turn 1 answers the session's first call, and so on. */
    turns: z.array(z.array(restOutputSchema)).min(1),
    /** After the last turn: repeat it (`repeatLast`) or answer as the echo bot (`echo`, the default). */
    then: z.enum(['repeatLast', 'echo']).optional(),
  })
  .strict();
export type RestScript = z.infer<typeof restScriptSchema>;

/** A REST Endpoint call: what came in and what the Flow answered (refused calls are in `rejected`). */
export interface RestCall {
  seq: number;
  urlToken: string;
  body: CognigyCallBody;
  receivedAt: string;
  /** The session's turn this call was (1 for its first call). */
  turn: number;
  answer: RestAnswer;
}

export interface RestAnswer {
  text: string;
  data: Record<string, unknown>;
  outputStack: {
    text: string;
    data: Record<string, unknown>;
    traceId: string;
    disableSensitiveLogging: false;
    source: 'bot';
  }[];
  userId: string;
  sessionId: string;
}

export interface CognigySimulatorOptions {
  /** Delay before every inject/notify answer. Default 0. */
  latencyMs?: number;
  /** The clock for `receivedAt`. */
  now?: () => Date;
}

export interface CognigySimulatorStats {
  delivered: number;
  inject: number;
  notify: number;
  /** REST Endpoint calls answered (not counted in `delivered`, which counts pushes). */
  rest: number;
  rejected: number;
  badRequests: number;
  sessions: number;
  /** Delivered calls whose `data.bridgeEventId` the session had received before (what a flow without dedupe sees). */
  duplicates: number;
  /** Of those, the ones the README's flow-side check (a bounded list of seen ids) would not drop. */
  duplicatesAfterFlowDedupe: number;
  /** Delivered calls without a `data.bridgeEventId` (a flow cannot tell a repeat of those). */
  withoutBridgeEventId: number;
}

/** Entries of the seen-id list the README's flow recipe keeps per session ("Dropping a repeated push"). */
export const FLOW_DEDUPE_WINDOW = 50;

export interface CognigyDuplicates {
  duplicates: number;
  duplicatesAfterFlowDedupe: number;
  withoutBridgeEventId: number;
  window: number;
  /** Every bridgeEventId delivered more than once: its session and how often it arrived. */
  repeated: { sessionId: string; bridgeEventId: string; count: number }[];
}

const bridgeEventIdOf = (call: CognigyCall): string | undefined => {
  const data = call.body.data;
  if (typeof data !== 'object' || data === null) return undefined;
  const id = (data as Record<string, unknown>).bridgeEventId;
  return typeof id === 'string' ? id : undefined;
};

export class CognigySimulator implements Simulator {
  readonly calls: CognigyCall[] = [];
  readonly rejected: RejectedCognigyCall[] = [];
  /** Every REST Endpoint call answered, in order. */
  readonly restCalls: RestCall[] = [];

  private readonly server: SimHttpServer;
  private readonly router = new Router();
  private readonly now: () => Date;
  private latency: number;
  private outage: { spec: CognigyOutage; remaining: number } | undefined;
  private seq = 0;
  private badRequests = 0;
  private slowAnswers: { share: number; ms: number; random: () => number } | undefined;
  private slowAnswered = 0;
  private readonly waiters = new Waiters<CognigyCall>();
  private readonly restWaiters = new Waiters<RestCall>();
  private readonly restScripts = new Map<string, RestScript>();
  /** Calls so far per URLToken and session: the turn counter of each REST conversation. */
  private readonly restTurns = new Map<string, number>();

  constructor(private readonly options: CognigySimulatorOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.latency = options.latencyMs ?? 0;
    this.server = new SimHttpServer('CognigySimulator', (req, res) =>
      dispatch(this.router, req, res, (r, status) =>
        sendJson(r, status, {
          statusCode: status,
          error: status === 404 ? 'Not Found' : 'Method Not Allowed',
        }),
      ),
    );
    this.routes();
  }

  start(port = 0): Promise<string> {
    return this.server.start(port);
  }

  async stop(): Promise<void> {
    this.waiters.cancelAll('CognigySimulator stopped');
    this.restWaiters.cancelAll('CognigySimulator stopped');
    await this.server.stop();
  }

  get url(): string {
    return this.server.url;
  }

  // --- In-process controls ---------------------------------------------------------------------------------------

  /**
   * Scripts the REST Endpoint's Flow for a URLToken: each session's n-th call answers `turns[n-1]`'s outputs; past
   * the last turn it repeats it or echoes (`then`). Replaces any script of that token; turn counters start again.
   */
  setRestScript(urlToken: string, turns: RestOutput[][], options: { then?: RestScript['then'] } = {}): void {
    this.restScripts.set(urlToken, restScriptSchema.parse({ turns, ...options }));
    this.clearTurns(urlToken);
  }

  /** Back to the echo bot for that token (its turn counters start again). */
  clearRestScript(urlToken: string): void {
    this.restScripts.delete(urlToken);
    this.clearTurns(urlToken);
  }

  /**
   * Refuses the next `count` calls (or all until clearOutage()) with `status`, or holds them (`kind: timeout`); with
   * `routes`, only calls to those routes (e.g. `['rest']`: only the REST Endpoint is down).
   */
  setOutage(outage: CognigyOutage): void {
    const spec = cognigyOutageSchema.parse(outage);
    const remaining = typeof spec.count === 'number' ? spec.count : Number.POSITIVE_INFINITY;
    this.outage = { spec, remaining };
  }

  clearOutage(): void {
    this.outage = undefined;
  }

  /**
   * Slow answers: a `share` of delivered pushes (drawn with `random`) are answered `ms` late, after being recorded —
   * as a Cognigy that processed the push but answered past the bridge's push timeout.
   */
  setSlowAnswers(slow: { share: number; ms: number; random: () => number } | undefined): void {
    this.slowAnswers = slow;
  }

  /** Pushes answered late by setSlowAnswers. */
  get slowAnswerCount(): number {
    return this.slowAnswered;
  }

  setLatency(ms: number): void {
    this.latency = latencyControlSchema.parse({ ms }).ms;
  }

  /** Clears calls, the outage and the latency (back to the constructor's). */
  reset(): void {
    this.calls.length = 0;
    this.rejected.length = 0;
    this.restCalls.length = 0;
    this.restScripts.clear();
    this.restTurns.clear();
    this.outage = undefined;
    this.latency = this.options.latencyMs ?? 0;
    this.badRequests = 0;
  }

  // --- Queries ---------------------------------------------------------------------------------------------------

  callsFor(sessionId: string): CognigyCall[] {
    return this.calls.filter((c) => c.body.sessionId === sessionId);
  }

  /** Delivered calls grouped by sessionId, in arrival order. */
  sessions(): Record<string, CognigyCall[]> {
    const grouped: Record<string, CognigyCall[]> = {};
    for (const call of this.calls) (grouped[call.body.sessionId] ??= []).push(call);
    return grouped;
  }

  /**
   * Resolves with the first delivered call matching `predicate`: one already received, or the next to arrive within
   * `timeoutMs` (rejects after that). Looking at earlier calls too avoids a race with a call that beat the wait.
   */
  waitFor(predicate: (call: CognigyCall) => boolean, timeoutMs = 5_000): Promise<CognigyCall> {
    return this.waiters.wait(predicate, timeoutMs, this.calls, 'a Cognigy inject/notify call');
  }

  /** Resolves when at least `count` delivered calls match `predicate`, with those calls in arrival order. */
  async waitForCount(
    count: number,
    predicate: (call: CognigyCall) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<CognigyCall[]> {
    const matching = () => this.calls.filter(predicate);
    if (matching().length >= count) return matching().slice(0, count);
    await this.waiters.wait(() => matching().length >= count, timeoutMs, [], `${count} Cognigy calls`);
    return matching().slice(0, count);
  }

  /** Resolves with the first REST Endpoint call matching `predicate` (already answered, or within timeoutMs). */
  waitForRestCall(predicate: (call: RestCall) => boolean, timeoutMs = 5_000): Promise<RestCall> {
    return this.restWaiters.wait(predicate, timeoutMs, this.restCalls, 'a Cognigy REST Endpoint call');
  }

  stats(): CognigySimulatorStats {
    const { duplicates, duplicatesAfterFlowDedupe, withoutBridgeEventId } = this.duplicates();
    return {
      delivered: this.calls.length,
      inject: this.calls.filter((c) => c.mode === 'inject').length,
      notify: this.calls.filter((c) => c.mode === 'notify').length,
      rest: this.restCalls.length,
      rejected: this.rejected.length,
      badRequests: this.badRequests,
      sessions: new Set(this.calls.map((c) => c.body.sessionId)).size,
      duplicates,
      duplicatesAfterFlowDedupe,
      withoutBridgeEventId,
    };
  }

  /**
   * Repeats by `data.bridgeEventId` per session, as delivered (a flow without dedupe runs each) and after the
   * flow-side check of the README recipe (a list of the last FLOW_DEDUPE_WINDOW ids seen, kept in the context).
   */
  duplicates(window = FLOW_DEDUPE_WINDOW): CognigyDuplicates {
    const counts = new Map<string, { sessionId: string; bridgeEventId: string; count: number }>();
    const seenBySession = new Map<string, string[]>();
    let duplicates = 0;
    let duplicatesAfterFlowDedupe = 0;
    let withoutBridgeEventId = 0;
    for (const call of this.calls) {
      const id = bridgeEventIdOf(call);
      if (id === undefined) {
        withoutBridgeEventId += 1;
        continue;
      }
      const { sessionId } = call.body;
      const key = JSON.stringify([sessionId, id]);
      const entry = counts.get(key) ?? { sessionId, bridgeEventId: id, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
      if (entry.count > 1) duplicates += 1;
      const seen = seenBySession.get(sessionId) ?? [];
      if (seen.includes(id)) continue; // the flow drops it
      if (entry.count > 1) duplicatesAfterFlowDedupe += 1; // fell out of the bounded list
      seen.push(id);
      if (seen.length > window) seen.shift();
      seenBySession.set(sessionId, seen);
    }
    const repeated = [...counts.values()].filter((e) => e.count > 1);
    return { duplicates, duplicatesAfterFlowDedupe, withoutBridgeEventId, window, repeated };
  }

  // --- HTTP ------------------------------------------------------------------------------------------------------

  private routes(): void {
    this.router
      .add('POST', '/inject/{urlToken}', (ctx) => this.handlePush(ctx, 'inject'))
      .add('POST', '/notify/{urlToken}', (ctx) => this.handlePush(ctx, 'notify'))
      .add('GET', '/__control', ({ res }) => sendJson(res, 200, { controls: COGNIGY_CONTROLS }))
      .add('GET', '/__control/sessions', ({ res }) => sendJson(res, 200, { sessions: this.sessions() }))
      .add('GET', '/__control/sessions/{sessionId}', ({ res, params }) => {
        const sessionId = params.sessionId ?? '';
        sendJson(res, 200, { sessionId, calls: this.callsFor(sessionId) });
      })
      .add('GET', '/__control/calls', ({ res }) =>
        sendJson(res, 200, { count: this.calls.length, calls: this.calls }),
      )
      .add('GET', '/__control/rejected', ({ res }) =>
        sendJson(res, 200, { count: this.rejected.length, rejected: this.rejected }),
      )
      .add('GET', '/__control/stats', ({ res }) => sendJson(res, 200, this.stats()))
      .add('GET', '/__control/duplicates', ({ res }) => sendJson(res, 200, this.duplicates()))
      .add('POST', '/__control/outage', (ctx) =>
        handleControl(ctx, outageControlSchema, (body) => {
          if ('clear' in body) this.clearOutage();
          else this.setOutage(body);
          return {
            ok: true,
            outage: this.outage ? { ...this.outage.spec, remaining: finite(this.outage.remaining) } : null,
          };
        }),
      )
      .add('GET', '/__control/rest-calls', ({ res }) =>
        sendJson(res, 200, { count: this.restCalls.length, restCalls: this.restCalls }),
      )
      .add('GET', '/__control/rest-scripts', ({ res }) =>
        sendJson(res, 200, { scripts: Object.fromEntries(this.restScripts) }),
      )
      .add('POST', '/__control/rest-scripts/{urlToken}', (ctx) =>
        handleControl(ctx, restScriptSchema, ({ turns, then }) => {
          this.setRestScript(ctx.params.urlToken ?? '', turns, then ? { then } : {});
          return { ok: true, urlToken: ctx.params.urlToken ?? '', turns: turns.length };
        }),
      )
      .add('DELETE', '/__control/rest-scripts/{urlToken}', ({ req, res, params }) => {
        req.resume();
        this.clearRestScript(params.urlToken ?? '');
        sendJson(res, 200, { ok: true });
      })
      .add('POST', '/__control/latency', (ctx) =>
        handleControl(ctx, latencyControlSchema, ({ ms }) => {
          this.setLatency(ms);
          return { ok: true, latencyMs: this.latency };
        }),
      )
      .add('POST', '/__control/reset', (ctx) =>
        handleControl(ctx, z.object({}).strict(), () => {
          this.reset();
          return { ok: true };
        }),
      )
      // Last: one path segment, so it never shadows /inject/{URLToken}, /notify/{URLToken} or /__control/....
      .add('POST', '/{urlToken}', (ctx) => this.handleRest(ctx));
  }

  /** Cognigy's REST Endpoint: the Flow's outputs for this input, answered synchronously. */
  private async handleRest({ req, res, params }: RouteContext): Promise<void> {
    const receivedAt = this.now().toISOString();
    const urlToken = params.urlToken ?? '';
    // `/inject` or `/notify` without a token, or a control path: not an Endpoint.
    if (urlToken.startsWith('__') || urlToken === 'inject' || urlToken === 'notify') {
      req.resume();
      return sendJson(res, 404, { statusCode: 404, error: 'Not Found' });
    }
    const read = await this.readCall(req, res);
    if (!read) return;
    const { raw, seq, parsed } = read;
    if (this.refusedByOutage(res, { seq, mode: 'rest', urlToken, raw, parsed, receivedAt })) return;

    const problem = invalid(parsed) ?? withoutInput(parsed as Record<string, unknown>);
    if (problem) {
      this.badRequests += 1;
      return sendJson(res, 400, { statusCode: 400, error: 'Bad Request', message: problem });
    }
    const body = parsed as CognigyCallBody;
    const key = JSON.stringify([urlToken, body.sessionId]);
    const turn = (this.restTurns.get(key) ?? 0) + 1;
    this.restTurns.set(key, turn);
    const outputs = this.outputsFor(urlToken, turn, body);
    const traceId = `endpoint-httpIncomingMessage-${randomUUID()}`;
    const outputStack = outputs.map((o) => ({
      text: o.text ?? '',
      data: o.data ?? {},
      traceId,
      disableSensitiveLogging: false as const,
      source: 'bot' as const,
    }));
    // Cognigy concatenates consecutive outputs into the top-level text and data.
    const answer: RestAnswer = {
      text: outputStack
        .map((o) => o.text)
        .filter((t) => t !== '')
        .join(' '),
      data: Object.assign({}, ...outputStack.map((o) => o.data)) as Record<string, unknown>,
      outputStack,
      userId: body.userId,
      sessionId: body.sessionId,
    };
    const call: RestCall = { seq, urlToken, body, receivedAt, turn, answer };
    this.restCalls.push(call);
    sendJson(res, 200, answer);
    this.restWaiters.publish(call);
  }

  private outputsFor(urlToken: string, turn: number, body: CognigyCallBody): RestOutput[] {
    const script = this.restScripts.get(urlToken);
    if (script) {
      const scripted = script.turns[turn - 1];
      if (scripted) return scripted;
      if (script.then === 'repeatLast') return script.turns[script.turns.length - 1] ?? [];
    }
    const text = typeof body.text === 'string' ? body.text : '';
    return [
      {
        text: text === '' ? `You sent data (turn ${turn})` : `You said: ${text} (turn ${turn})`,
        data: { echo: { turn } },
      },
    ];
  }

  private clearTurns(urlToken: string): void {
    for (const key of this.restTurns.keys())
      if ((JSON.parse(key) as string[])[0] === urlToken) this.restTurns.delete(key);
  }

  /** Applies an injected outage to this call: records it in `rejected` and answers (or holds) it. */
  private refusedByOutage(
    res: Response,
    call: {
      seq: number;
      mode: CognigyRoute;
      urlToken: string;
      raw: Buffer;
      parsed: unknown;
      receivedAt: string;
    },
  ): boolean {
    const outage = this.takeOutage(call.mode);
    if (!outage) return false;
    const status = 'kind' in outage ? 'timeout' : outage.status;
    this.rejected.push({
      seq: call.seq,
      mode: call.mode,
      urlToken: call.urlToken,
      body: call.parsed === NOT_JSON ? call.raw.toString('utf8') : call.parsed,
      receivedAt: call.receivedAt,
      status,
    });
    if (status === 'timeout') return true; // held until the client gives up or the simulator stops
    const headers: Record<string, string> =
      'retryAfter' in outage && outage.retryAfter !== undefined
        ? { 'retry-after': String(outage.retryAfter) }
        : {};
    sendJson(res, status, { statusCode: status, error: 'Injected outage' }, headers);
    return true;
  }

  /** A call's body (413 answered when too big), its sequence number, after the simulated latency. */
  private async readCall(
    req: RouteContext['req'],
    res: RouteContext['res'],
  ): Promise<{ raw: Buffer; seq: number; parsed: unknown } | undefined> {
    let raw: Buffer;
    try {
      raw = await readBody(req, 1024 * 1024);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      sendJson(res, 413, { statusCode: 413, error: 'Payload Too Large', message: error.message });
      return undefined;
    }
    const seq = (this.seq += 1);
    if (this.latency > 0) await sleep(this.latency);
    return { raw, seq, parsed: parseJson(raw) };
  }

  private async handlePush({ req, res, params }: RouteContext, mode: CognigyMode): Promise<void> {
    const receivedAt = this.now().toISOString();
    const urlToken = params.urlToken ?? '';
    const read = await this.readCall(req, res);
    if (!read) return;
    const { raw, seq, parsed } = read;

    if (this.refusedByOutage(res, { seq, mode, urlToken, raw, parsed, receivedAt })) return;

    const problem = invalid(parsed);
    if (problem) {
      this.badRequests += 1;
      return sendJson(res, 400, { statusCode: 400, error: 'Bad Request', message: problem });
    }
    const call: CognigyCall = { seq, mode, urlToken, body: parsed as CognigyCallBody, receivedAt };
    this.calls.push(call);
    const slow = this.slowAnswers && this.slowAnswers.random() < this.slowAnswers.share;
    if (slow && this.slowAnswers) {
      // Cognigy has the push already; only its answer is late (past the bridge's timeout, so it may push again).
      this.slowAnswered += 1;
      this.waiters.publish(call);
      await sleep(this.slowAnswers.ms);
      if (!res.destroyed) sendJson(res, 200, {});
      return;
    }
    sendJson(res, 200, {});
    this.waiters.publish(call);
  }

  private takeOutage(route: CognigyRoute): CognigyOutage | undefined {
    const outage = this.outage;
    if (!outage) return undefined;
    if (outage.spec.routes && !outage.spec.routes.includes(route)) return undefined;
    outage.remaining -= 1;
    if (outage.remaining <= 0) this.outage = undefined;
    return outage.spec;
  }
}

function invalid(body: unknown): string | undefined {
  if (body === NOT_JSON) return 'Body must be JSON';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Body must be a JSON object';
  const { userId, sessionId } = body as Record<string, unknown>;
  if (typeof userId !== 'string' || userId === '') return 'userId is required';
  if (typeof sessionId !== 'string' || sessionId === '') return 'sessionId is required';
  return undefined;
}

/** Cognigy's REST Endpoint needs text or data ("If both are missing or invalid, the REST Endpoint throws an error"). */
function withoutInput(body: Record<string, unknown>): string | undefined {
  const hasText = typeof body.text === 'string' && body.text !== '';
  const hasData = typeof body.data === 'object' && body.data !== null && !Array.isArray(body.data);
  return hasText || hasData ? undefined : 'text or data is required';
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/** The HTTP controls, listed at GET /__control. */
export const COGNIGY_CONTROLS = {
  'GET /__control/sessions': 'delivered calls grouped by sessionId',
  'GET /__control/sessions/{sessionId}': "one session's calls",
  'GET /__control/calls': 'every delivered call',
  'GET /__control/rejected': 'calls refused by an outage',
  'GET /__control/stats': 'counters',
  'GET /__control/duplicates':
    'repeats by data.bridgeEventId per session, as delivered and after the flow-side dedupe of the README recipe',
  'POST /__control/outage':
    '{status, count?, retryAfter?, routes?} | {kind: "timeout", count?, routes?} | {clear: true} (routes: inject, notify, rest)',
  'POST /{URLToken}':
    'the REST Endpoint: {userId, sessionId, text?, data?} → {text, data, outputStack, userId, sessionId}',
  'GET /__control/rest-calls': 'every REST Endpoint call and its answer',
  'GET /__control/rest-scripts': 'the scripted REST Flows by URLToken',
  'POST /__control/rest-scripts/{URLToken}':
    '{turns: [[{text?, data?}, ...], ...], then?: "echo" | "repeatLast"} (no script: echo bot)',
  'DELETE /__control/rest-scripts/{URLToken}': 'back to the echo bot',
  'POST /__control/latency': '{ms}',
  'POST /__control/reset': 'clear calls, REST calls and scripts, outage and latency',
} as const;
