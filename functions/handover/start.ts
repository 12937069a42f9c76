/**
 * POST /handover: creates the 8x8 Chat Gateway conversation for a Cognigy session and records the mapping.
 *
 * Cognigy's HTTP Request node gives up after 8 s, so the whole 8x8 exchange fits in START_BUDGET_MS: one attempt
 * of at most 5 s, and one quick retry, while enough budget is left, only when 8x8 surely created nothing: it
 * answered 5xx, or the connection was refused. A timeout or a connection lost after sending is not retried: 8x8
 * has no idempotency key for this call, so a retry could put a second conversation in front of an agent. A 429
 * is not retried here either (the flow gets UPSTREAM_RATE_LIMITED and can try again later).
 */
import { BridgeError, UpstreamError } from '../shared/errors';
import { errorBody, type ApiRequest, type ApiResponse } from '../shared/http';
import { logger, metrics } from '../shared/powertools';
import { ownerFor, tenancyOf, visibleTo, type Tenancy } from '../shared/tenancy';
import { HandoverError } from './error-codes';
import type { Clock, Ids } from '../shared/runtime';
import {
  isClosed,
  type ChatGateway,
  type ConversationRecord,
  type ConversationStore,
  type CreateConversationRequest,
  type SessionClaim,
  type SessionClaims,
} from './ports';
import { mutateRecord, sessionClaimKey } from './record';
import { normaliseStartRequest, type StartHandoverInput } from './schema';
import { newestOpen } from './status';
import { ChatGatewayError } from './chat-gateway-client';

/** 8x8 takes at most 200 history messages (OAS CreateTransactionRequest.history.messages). */
export const HISTORY_MAX_MESSAGES = 200;
/** 8x8 takes at most 30 additional properties (OAS ConversationUserData.additionalProperties). */
export const PROPERTIES_MAX = 30;
/** Longest property value sent; 8x8 documents none, and the agent's details panel shows short values best. */
export const PROPERTY_VALUE_MAX_CHARS = 1000;
/** Property under which the agent gets the Agent Copilot link (when the cognigy secret has copilotBaseUrl). */
export const COPILOT_PROPERTY_KEY = 'Cognigy Copilot';

/** Time for all 8x8 calls of one start; the rest of Cognigy's 8 s is for secrets, DynamoDB and the network. */
export const START_BUDGET_MS = 6500;
/** Longest single attempt (the issue asks for an upstream timeout of at most 5 s). */
export const MAX_ATTEMPT_MS = 5000;
export const RETRY_DELAY_MS = 200;
/** A retry gets at least this much time or is not made. */
export const MIN_RETRY_ATTEMPT_MS = 1000;
/** Time for ending a conversation again when it could not be recorded. */
export const CLEANUP_TIMEOUT_MS = 1000;

export interface CognigyConfig {
  endpointBaseUrl?: string;
  copilotBaseUrl?: string;
}

/**
 * How long a start holds its session's claim: the function's 8 s timeout plus a margin, so a start that crashed
 * blocks the session for at most this long.
 */
export const SESSION_CLAIM_MS = 10_000;
/** Interval at which a repeated start looks whether the start in flight has finished. */
export const START_WAIT_POLL_MS = 100;
/** Longest wait for 8x8 to end the old chat of a `replace: true` start (the new chat needs the rest). */
export const REPLACE_END_TIMEOUT_MS = 1500;

export interface StartDeps {
  store: ConversationStore;
  sessions: SessionClaims;
  chatGateway: ChatGateway;
  clock: Clock;
  ids: Ids;
  /** HANDOVER_START_WAIT_MS: how long a repeat waits for the start in flight of the same session. */
  startWaitMs: number;
  /** UNOWNED_RECORDS_OWNER (functions/shared/tenancy.ts). */
  unownedRecordsOwner?: string;
  /** The `cognigy` secret (default Endpoint base URL, Agent Copilot base URL). */
  cognigyConfig: () => Promise<CognigyConfig>;
  /** UPSTREAM_TIMEOUT_MS; capped at MAX_ATTEMPT_MS here. */
  upstreamTimeoutMs: number;
  /** Local mode (ALLOW_LOOPBACK_URLS): cognigy.endpointBaseUrl may name 127.0.0.1 over http. */
  allowLoopbackUrls?: boolean;
  sleep?: (ms: number) => Promise<void>;
}

export interface Trimmed {
  history: number;
  properties: number;
  truncatedValues: number;
}

/** Agent Copilot workspace link: `${base}/?userId=…&sessionId=…&URLToken=…` (cognigy.md §5). */
export function copilotLink(
  base: string,
  ids: { userId: string; sessionId: string; urlToken: string },
): string {
  const q = (v: string) => encodeURIComponent(v);
  return `${base.replace(/\/+$/, '')}/?userId=${q(ids.userId)}&sessionId=${q(ids.sessionId)}&URLToken=${q(ids.urlToken)}`;
}

/** Cuts a value to PROPERTY_VALUE_MAX_CHARS code points, the last one an ellipsis so the agent sees the cut. */
function limitValue(value: string): { value: string; truncated: boolean } {
  const chars = Array.from(value);
  if (chars.length <= PROPERTY_VALUE_MAX_CHARS) return { value, truncated: false };
  return { value: `${chars.slice(0, PROPERTY_VALUE_MAX_CHARS - 1).join('')}…`, truncated: true };
}

/**
 * The 8x8 create request for a normalised start request, fitted to 8x8's limits predictably: the most recent
 * 200 transcript messages; reserved properties (the Copilot link) first, then custom ones in the given order up
 * to 30 in all (a custom property with a reserved key is left out); values cut to 1000 characters.
 */
export function buildCreateConversationRequest(
  input: StartHandoverInput,
  config: Pick<CognigyConfig, 'copilotBaseUrl'>,
): { request: CreateConversationRequest; trimmed: Trimmed } {
  const trimmed: Trimmed = { history: 0, properties: 0, truncatedValues: 0 };

  const reserved: { key: string; value: string }[] = [];
  if (config.copilotBaseUrl) {
    reserved.push({ key: COPILOT_PROPERTY_KEY, value: copilotLink(config.copilotBaseUrl, input.cognigy) });
  }
  const reservedKeys = new Set(reserved.map((p) => p.key));
  const custom = input.properties.filter((p) => !reservedKeys.has(p.key));
  trimmed.properties += input.properties.length - custom.length;
  const room = Math.max(0, PROPERTIES_MAX - reserved.length);
  trimmed.properties += Math.max(0, custom.length - room);
  const additionalProperties = [
    ...reserved,
    ...custom.slice(0, room).map((p) => {
      const limited = limitValue(p.value);
      if (limited.truncated) trimmed.truncatedValues++;
      return { key: p.key, value: limited.value };
    }),
  ];

  const messages = input.transcript.slice(-HISTORY_MAX_MESSAGES);
  trimmed.history = input.transcript.length - messages.length;

  const user: CreateConversationRequest['user'] = {};
  const c = input.customer;
  if (c.name) user.name = c.name;
  if (c.customerId) user.userId = c.customerId;
  if (c.email) user.email = c.email;
  if (c.phone) user.phone = c.phone;
  if (c.company) user.company = c.company;
  if (c.caseId) user.caseId = c.caseId;
  user.language = c.language ?? 'en';
  if (additionalProperties.length > 0) user.additionalProperties = additionalProperties;

  const request: CreateConversationRequest = {
    channelId: input.channelId,
    ...(input.assignment ? { assignment: input.assignment } : {}),
    user,
    ...(messages.length > 0 ? { history: { messages } } : {}),
  };
  return { request, trimmed };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Connection failures that happen before a request is sent, so 8x8 cannot have acted on it. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** Whether 8x8 may have created the conversation although the call failed (no answer after sending). */
export function mayHaveCreated(error: UpstreamError): boolean {
  if (error.httpStatus !== undefined) return false; // 8x8 answered with an error status
  for (let cause: unknown = error.cause; cause; cause = (cause as { cause?: unknown }).cause) {
    if (NOT_SENT_CODES.has(String((cause as { code?: unknown }).code))) return false;
  }
  return true;
}

/** Creates the conversation with at most one quick retry (see mayHaveCreated), all within `budgetMs`. */
async function createWithinBudget(request: CreateConversationRequest, deps: StartDeps, budgetMs: number) {
  const started = deps.clock.now().getTime();
  const attemptCap = Math.min(deps.upstreamTimeoutMs, MAX_ATTEMPT_MS);
  try {
    return await deps.chatGateway.createConversation(request, {
      timeoutMs: Math.min(attemptCap, budgetMs),
    });
  } catch (error) {
    if (!(error instanceof UpstreamError) || error.kind !== 'transient' || mayHaveCreated(error)) throw error;
    const left = budgetMs - (deps.clock.now().getTime() - started) - RETRY_DELAY_MS;
    if (left < MIN_RETRY_ATTEMPT_MS) throw error;
    logger.warn('8x8 create conversation failed; retrying once', {
      httpStatus: error.httpStatus,
      code: error.upstreamCode,
    });
    await (deps.sleep ?? defaultSleep)(RETRY_DELAY_MS);
    return await deps.chatGateway.createConversation(request, { timeoutMs: Math.min(attemptCap, left) });
  }
}

/** Maps a Chat Gateway failure to the answer the flow branches on (see error-codes.ts). */
export function startFailure(error: UpstreamError): HandoverError {
  const reason = error instanceof ChatGatewayError ? error.reason : undefined;
  const details = {
    httpStatus: error.httpStatus,
    ...(error.upstreamCode !== undefined ? { upstreamCode: String(error.upstreamCode) } : {}),
    ...(reason ? { reason } : {}),
  };
  if (error.kind === 'permanent') {
    return new HandoverError(
      'UPSTREAM_REJECTED',
      `8x8 refused the handover: ${reason ?? `HTTP ${error.httpStatus}`}`,
      details,
      { cause: error },
    );
  }
  if (error.kind === 'rateLimited') {
    const retryAfterSeconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000));
    return new HandoverError(
      'UPSTREAM_RATE_LIMITED',
      `8x8 is rate limiting; retry in ${retryAfterSeconds} s`,
      { ...details, retryAfterSeconds },
      { cause: error },
    );
  }
  if (error.upstreamCode === 'TIMEOUT') {
    return new HandoverError(
      'UPSTREAM_TIMEOUT',
      '8x8 did not answer in time; the handover was not started',
      details,
      { cause: error },
    );
  }
  return new HandoverError(
    'UPSTREAM_UNAVAILABLE',
    '8x8 is unavailable; the handover was not started',
    details,
    { cause: error },
  );
}

/** The session's open chat, as this caller may see it (the claim's conversation, else the newest open one). */
async function openChatOf(
  claim: SessionClaim | undefined,
  sessionId: string,
  deps: StartDeps,
  tenancy: Tenancy,
): Promise<ConversationRecord | undefined> {
  if (claim?.conversationId) {
    const record = await deps.store.get(claim.conversationId);
    if (record && !isClosed(record.status) && visibleTo(record.owner, tenancy)) return record;
    return undefined;
  }
  // No claim: chats started before claims existed are found through the session index.
  return newestOpen((await deps.store.findBySession(sessionId)).filter((r) => visibleTo(r.owner, tenancy)));
}

const sleepFor = (deps: StartDeps) => deps.sleep ?? defaultSleep;

/**
 * Waits until no other start of this session is in flight and takes the session's claim, or finds its open chat.
 * A start in flight is waited for up to HANDOVER_START_WAIT_MS; past that the answer is 409 with Retry-After.
 */
async function claimSession(
  input: StartHandoverInput,
  deps: StartDeps,
  tenancy: Tenancy,
): Promise<{ existing: ConversationRecord } | { claimId: string; key: string; open?: ConversationRecord }> {
  const key = sessionClaimKey(tenancy.callerId, input.cognigy.sessionId);
  const waitUntil = deps.clock.now().getTime() + deps.startWaitMs;
  let waited = false;
  for (;;) {
    const claim = await deps.sessions.get(key);
    const now = deps.clock.now().getTime();
    if (claim?.state === 'starting' && claim.claimedUntil > now) {
      if (now >= waitUntil) {
        const retryAfterSeconds = Math.max(1, Math.ceil((claim.claimedUntil - now) / 1000));
        metrics.addMetric('HandoverStartWaitExpired', 'Count', 1);
        throw new HandoverError(
          'HANDOVER_START_IN_PROGRESS',
          `A handover for this session is still starting; retry in ${retryAfterSeconds} s`,
          { retryAfterSeconds },
        );
      }
      waited = true;
      await sleepFor(deps)(Math.min(START_WAIT_POLL_MS, Math.max(1, waitUntil - now)));
      continue;
    }
    const open = await openChatOf(claim, input.cognigy.sessionId, deps, tenancy);
    if (open && (!input.replace || waited)) {
      // A repeat that waited for the start in flight gets that start's chat, even with replace: true.
      return { existing: open };
    }
    const claimId = deps.ids.uuid();
    const claimed = await deps.sessions.claim(
      { key, claimId, claimedUntil: now + SESSION_CLAIM_MS },
      claim?.version,
    );
    if (claimed) return { claimId, key, ...(open ? { open } : {}) };
    // Another start took the claim between our read and our write: wait for it like any repeat (bounded too).
    if (deps.clock.now().getTime() >= waitUntil) {
      throw new HandoverError(
        'HANDOVER_START_IN_PROGRESS',
        'A handover for this session is still starting; retry in 1 s',
        {
          retryAfterSeconds: 1,
        },
      );
    }
    waited = true;
  }
}

/** `replace: true`: ends the old chat at 8x8 with the user-side end call of POST …/end, then marks it cancelled. */
async function endForReplace(record: ConversationRecord, deps: StartDeps): Promise<void> {
  const timeoutMs = Math.min(deps.upstreamTimeoutMs, REPLACE_END_TIMEOUT_MS);
  try {
    await deps.chatGateway.endConversationAsUser(record.conversationId, { timeoutMs });
  } catch (error) {
    // 404: 8x8 no longer knows the chat, which is what ending it wants.
    if (!(error instanceof UpstreamError) || error.httpStatus !== 404) {
      if (error instanceof UpstreamError) throw startFailure(error);
      throw error;
    }
  }
  const now = deps.clock.now().toISOString();
  await mutateRecord(deps.store, record.conversationId, (current) =>
    isClosed(current.status)
      ? null
      : {
          set: { status: 'cancelled', endedAt: now, endReason: 'userEnded', userRemovedAt: now },
          remove: ['transferPendingSince'],
        },
  );
  metrics.addMetric('HandoverReplaced', 'Count', 1);
  logger.info('Open handover ended to start a new one (replace)', {
    conversationId: record.conversationId,
    status: 'cancelled',
  });
}

function existingAnswer(record: ConversationRecord): ApiResponse {
  metrics.addMetric('HandoverStartAnsweredExisting', 'Count', 1);
  logger.info('Session already has an open handover; answering it', {
    conversationId: record.conversationId,
    sessionId: record.sessionId,
    status: record.status,
  });
  return {
    statusCode: 200,
    body: {
      ok: true,
      conversationId: record.conversationId,
      handover: { status: record.status },
      existing: true,
    },
  };
}

export async function startHandover(
  body: unknown,
  deps: StartDeps,
  tenancy: Tenancy = { unownedRecordsOwner: deps.unownedRecordsOwner },
): Promise<ApiResponse> {
  const startedAt = deps.clock.now().getTime();
  const input = normaliseStartRequest(body, { allowLoopback: deps.allowLoopbackUrls === true });
  const config = await deps.cognigyConfig();
  if (!input.cognigy.endpointBaseUrl && !config.endpointBaseUrl) {
    // Without it no agent message could ever reach the user, so refuse before an agent is involved.
    throw new HandoverError(
      'ENDPOINT_BASE_URL_REQUIRED',
      'No Cognigy Endpoint base URL: send cognigy.endpointBaseUrl or configure endpointBaseUrl in the cognigy secret',
    );
  }
  const session = await claimSession(input, deps, tenancy);
  if ('existing' in session) return existingAnswer(session.existing);
  try {
    if (session.open) await endForReplace(session.open, deps);
    // Waiting and replacing came out of Cognigy's 8 s; the 8x8 create gets what is left of START_BUDGET_MS.
    const budgetMs = Math.max(
      MIN_RETRY_ATTEMPT_MS,
      START_BUDGET_MS - (deps.clock.now().getTime() - startedAt),
    );
    const response = await createAndRecord(input, config, deps, tenancy, budgetMs);
    const conversationId = String(response.body.conversationId);
    const opened = await deps.sessions
      .open(session.key, session.claimId, conversationId)
      .catch((error: unknown) => {
        logger.error('Could not mark the session claim open', { conversationId, error: error as Error });
        return false;
      });
    if (!opened) logger.warn('The session claim was lost during the start', { conversationId });
    if (session.open) response.body.replaced = session.open.conversationId;
    return response;
  } catch (error) {
    await deps.sessions
      .release(session.key, session.claimId)
      .catch((releaseError: unknown) =>
        logger.error('Could not release the session claim', { error: releaseError as Error }),
      );
    throw error;
  }
}

async function createAndRecord(
  input: StartHandoverInput,
  config: CognigyConfig,
  deps: StartDeps,
  tenancy: Tenancy,
  budgetMs: number,
): Promise<ApiResponse> {
  const { request, trimmed } = buildCreateConversationRequest(input, config);

  let created;
  try {
    created = await createWithinBudget(request, deps, budgetMs);
  } catch (error) {
    if (error instanceof UpstreamError) {
      metrics.addMetric('HandoverStartFailed', 'Count', 1);
      logger.warn('8x8 did not create the conversation', {
        channelId: input.channelId,
        kind: error.kind,
        httpStatus: error.httpStatus,
        code: error.upstreamCode,
      });
      throw startFailure(error);
    }
    throw error;
  }

  const now = deps.clock.now().toISOString();
  const record: ConversationRecord = {
    conversationId: created.conversationId,
    sessionId: input.cognigy.sessionId,
    ...ownerFor(tenancy),
    userId: input.cognigy.userId,
    urlToken: input.cognigy.urlToken,
    ...(input.cognigy.endpointBaseUrl ? { endpointBaseUrl: input.cognigy.endpointBaseUrl } : {}),
    channelId: input.channelId,
    ...(input.assignment?.type === 'queue' ? { queueId: input.assignment.id } : {}),
    ...(input.assignment?.type === 'script' ? { scriptId: input.assignment.id } : {}),
    status: 'queue',
    createdAt: now,
    relayedEventIds: [],
    deliveredItemIds: [],
    version: 0,
    expiresAt: 0, // set by the store from RECORD_TTL_DAYS
  };
  try {
    await deps.store.create(record);
  } catch (error) {
    // An agent must not pick up a chat whose messages cannot reach the user: end it again, then report.
    logger.error('Could not record the new conversation; ending it at 8x8', {
      conversationId: created.conversationId,
      error: error as Error,
    });
    await deps.chatGateway
      .endConversationAsUser(created.conversationId, { timeoutMs: CLEANUP_TIMEOUT_MS })
      .catch((endError: unknown) =>
        logger.error('Could not end the unrecorded conversation', {
          conversationId: created.conversationId,
          error: endError as Error,
        }),
      );
    throw new HandoverError(
      'HANDOVER_NOT_RECORDED',
      'The handover could not be recorded and was not started; start it again',
      undefined,
      {
        cause: error,
      },
    );
  }

  const wasTrimmed = trimmed.history + trimmed.properties + trimmed.truncatedValues > 0;
  metrics.addMetric('HandoverStarted', 'Count', 1);
  logger.info('Handover started', {
    conversationId: created.conversationId,
    sessionId: input.cognigy.sessionId,
    channelId: input.channelId,
    status: 'queue',
    historyMessages: request.history?.messages.length ?? 0,
    properties: request.user.additionalProperties?.length ?? 0,
    ...(wasTrimmed ? { trimmed } : {}),
  });
  return {
    statusCode: 201,
    body: {
      ok: true,
      conversationId: created.conversationId,
      handover: { status: 'queue' },
      ...(wasTrimmed ? { trimmed } : {}),
    },
  };
}

/**
 * The route core: failures are answered like every other error (`{ok:false,error}`) plus `handover: {status:
 * "error"}`, Cognigy's value for a failed handover, so a flow can branch on the same field either way.
 */
export async function startHandoverApi(request: ApiRequest, deps: StartDeps): Promise<ApiResponse> {
  try {
    return await startHandover(request.body, deps, tenancyOf(request, deps));
  } catch (error) {
    if (error instanceof BridgeError) {
      const retryAfter = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      return {
        statusCode: error.statusCode,
        body: { ...errorBody(error.code, error.message, error.details), handover: { status: 'error' } },
        ...(typeof retryAfter === 'number' ? { headers: { 'retry-after': String(retryAfter) } } : {}),
      };
    }
    logger.error('Handover start failed', { error: error as Error });
    return {
      statusCode: 500,
      body: {
        ...errorBody('INTERNAL_ERROR', 'The handover could not be started'),
        handover: { status: 'error' },
      },
    };
  }
}
