/**
 * 8x8 Contact Center Chat Gateway v1.0 client (lib/simulators/contract/8x8/contact-center-chat-gateway-v1.oas.yml).
 * Headers on every call: `x-api-key`, `X-8x8-Tenant` when a tenant is configured (Cognigy sends it on every
 * call, also where the OAS omits it), `Content-Type: application/json`, `Accept: application/hal+json`.
 *
 * Success and failure are decided on the HTTP status only (callUpstream: 429 rate limited, 5xx/408/timeouts
 * transient, other 4xx permanent); the problem+json body, whatever its shape, only supplies the reason and code
 * recorded for people to read.
 */
import { UpstreamError } from '../shared/errors';
import { callUpstream, type UpstreamResponse } from '../shared/upstream';
import type { CallOptions, ChatGateway, CreateConversationRequest, CreatedConversation } from './ports';

export interface ChatGatewayCredentials {
  apiKey: string;
  tenant?: string;
  baseUrl: string;
}

/** An UpstreamError from Chat Gateway carrying 8x8's own words (`reason`) for the record and the API answer. */
export class ChatGatewayError extends UpstreamError {
  constructor(
    kind: UpstreamError['kind'],
    message: string,
    readonly reason: string | undefined,
    httpStatus?: number,
    upstreamCode?: string | number,
    retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super('8x8-chat-gateway', kind, message, httpStatus, upstreamCode, retryAfterMs, options);
  }
}

/**
 * Reads 8x8's error bodies, which come in several shapes (OAS §components/schemas and 8x8-apis.md §2.7):
 * `{message, errors:[{code,message}]}`, `{message, errors:["text"]}`, `{message, errors:{code,message}}` and an
 * API-gateway fault `{fault:{faultstring, detail:{errorcode}}}`.
 */
export function describeProblem(body: unknown): { reason?: string; code?: string } {
  if (body === null || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const texts: string[] = [];
  let code: string | undefined;
  if (typeof b.message === 'string') texts.push(b.message);
  const errors = Array.isArray(b.errors)
    ? b.errors
    : b.errors && typeof b.errors === 'object'
      ? [b.errors]
      : [];
  for (const e of errors) {
    if (typeof e === 'string') texts.push(e);
    else if (e && typeof e === 'object') {
      const { message, code: c } = e as { message?: unknown; code?: unknown };
      if (typeof message === 'string') texts.push(message);
      if (code === undefined && (typeof c === 'string' || typeof c === 'number')) code = String(c);
    }
  }
  const fault = b.fault as { faultstring?: unknown; detail?: { errorcode?: unknown } } | undefined;
  if (fault && typeof fault === 'object') {
    if (typeof fault.faultstring === 'string') texts.push(fault.faultstring);
    if (code === undefined && typeof fault.detail?.errorcode === 'string') code = fault.detail.errorcode;
  }
  const unique = [...new Set(texts.map((t) => t.trim()).filter((t) => t !== ''))];
  const reason = unique.length > 0 ? unique.join(' — ').slice(0, 300) : undefined;
  return { ...(reason !== undefined ? { reason } : {}), ...(code !== undefined ? { code } : {}) };
}

/**
 * The Chat Gateway port over HTTP. Credentials are read per call (the secrets layer caches them with a TTL), so
 * a rotated key is picked up without a restart.
 */
export function chatGatewayClient(credentials: () => Promise<ChatGatewayCredentials>): ChatGateway {
  async function call(
    operation: string,
    method: 'POST' | 'PATCH',
    path: string,
    body: unknown,
    options: CallOptions,
  ): Promise<UpstreamResponse> {
    const creds = await credentials();
    const headers: Record<string, string> = {
      'x-api-key': creds.apiKey,
      'content-type': 'application/json',
      accept: 'application/hal+json',
    };
    if (creds.tenant) headers['x-8x8-tenant'] = creds.tenant;
    let problem: { reason?: string; code?: string } = {};
    try {
      return await callUpstream(
        '8x8-chat-gateway',
        `${creds.baseUrl.replace(/\/+$/, '')}/chat-gateway/v1${path}`,
        { method, headers, body: JSON.stringify(body), timeoutMs: options.timeoutMs },
        (errorBody) => {
          problem = describeProblem(errorBody);
          return problem.code;
        },
      );
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      const status = error.httpStatus;
      const what = problem.reason ?? (status ? `HTTP ${status}` : error.message);
      throw new ChatGatewayError(
        error.kind,
        status
          ? `8x8 Chat Gateway ${operation} answered ${status}: ${what}`
          : `8x8 Chat Gateway ${operation}: ${error.message}`,
        problem.reason,
        status,
        error.upstreamCode,
        error.retryAfterMs,
        { cause: error },
      );
    }
  }

  const conversationPath = (id: string) => `/conversations/${encodeURIComponent(id)}`;

  return {
    async createConversation(
      request: CreateConversationRequest,
      options: CallOptions,
    ): Promise<CreatedConversation> {
      const response = await call('createConversation', 'POST', '/conversations', request, options);
      const json = response.json as { conversationId?: unknown; createdAt?: unknown } | undefined;
      if (typeof json?.conversationId !== 'string' || json.conversationId === '') {
        // 202 without an id: the conversation cannot be used, and retrying could create a second one.
        throw new ChatGatewayError(
          'permanent',
          `8x8 Chat Gateway createConversation answered ${response.status} without a conversationId`,
          'The answer had no conversationId',
          response.status,
          'UNEXPECTED_RESPONSE',
        );
      }
      return {
        conversationId: json.conversationId,
        ...(typeof json.createdAt === 'string' ? { createdAt: json.createdAt } : {}),
      };
    },

    async sendUserMessage(conversationId: string, text: string, options: CallOptions): Promise<void> {
      await call(
        'sendUserMessage',
        'POST',
        `${conversationPath(conversationId)}/messages`,
        { authorType: 'user', text },
        options,
      );
    },

    async endConversationAsUser(conversationId: string, options: CallOptions): Promise<void> {
      // "Setting the removed property to true will terminate the conversation" (OAS PatchUserParticipantRequest).
      await call(
        'endConversationAsUser',
        'PATCH',
        `${conversationPath(conversationId)}/participants/user`,
        { removed: true },
        options,
      );
    },

    async sendTyping(
      conversationId: string,
      authorType: 'user' | 'bot',
      options: CallOptions,
    ): Promise<void> {
      await call('sendTyping', 'POST', `${conversationPath(conversationId)}/typing`, { authorType }, options);
    },
  };
}
