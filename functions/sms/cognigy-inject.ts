/**
 * Injects SMS status changes into the Cognigy session that sent the SMS, when the request asked for it
 * (`cognigy.injectReceipts` / `cognigy.receiptEvents`). The Flow runs with text "" and `input.data.sms`, so it can
 * react, e.g. offer another channel when a one-time code was undelivered.
 */
import {
  smsBridgeEventId,
  type CognigyEndpoint,
  type CognigyPush,
  type CognigyTarget,
  type PushOptions,
} from '../shared/cognigy-client';
import { UpstreamError } from '../shared/errors';
import { powertoolsTelemetry, type Telemetry } from '../shared/runtime';
import { publicStatus, type MessageRecord, type SmsStatus } from './records';
import type { ReceiptEvent } from './schema';

export interface SmsStatusEvent {
  status: SmsStatus;
  umid?: string;
  detail?: string;
  errorCode?: string | number;
  errorMessage?: string;
}

/** ok: injected. transient: worth retrying. permanent: Cognigy refused it (e.g. unknown URLToken). skipped: not asked for or not possible. */
export type InjectResult = 'ok' | 'transient' | 'permanent' | 'skipped';

export interface ReceiptInjector {
  /** `options.retry`: an earlier try of this very injection failed and may have arrived (longer timeout). */
  inject(record: MessageRecord, event: SmsStatusEvent, options?: PushOptions): Promise<InjectResult>;
}

export function wantsInjection(record: Pick<MessageRecord, 'cognigy'>, status: SmsStatus): boolean {
  return !!record.cognigy?.receiptEvents.includes(status as ReceiptEvent);
}

/**
 * The inject body: `data.sms.status` is the status code GET /sms answers (8x8's upper case, e.g. `UNDELIVERED`);
 * `data.bridgeEventId` is the
 * same on every retry of this status change (by the worker through SQS, or by 8x8 repeating the receipt).
 */
export function injectBody(record: MessageRecord, event: SmsStatusEvent): CognigyPush {
  const sms: Record<string, unknown> = {
    messageId: record.messageId,
    clientMessageId: record.clientMessageId ?? null,
    umid: event.umid ?? record.umid ?? null,
    status: publicStatus(event.status),
    detail: event.detail ?? null,
    errorCode: event.errorCode ?? null,
    errorMessage: event.errorMessage ?? null,
    destination: record.destination,
  };
  return {
    userId: record.cognigy?.userId ?? '',
    sessionId: record.cognigy?.sessionId ?? '',
    text: '',
    data: { bridgeEventId: smsBridgeEventId(record.messageId, event.status, event.detail), sms },
  };
}

type LogFields = { messageId: string; clientMessageId?: string; status: SmsStatus };

/** Where the record's session is reached, or why it cannot be (`skipped`: never will; `transient`: try again). */
async function targetOf(
  record: MessageRecord,
  cognigy: CognigyEndpoint,
  log: LogFields,
  telemetry: Telemetry,
): Promise<CognigyTarget | 'skipped' | 'transient'> {
  const ref = record.cognigy;
  if (!ref?.userId || !ref.sessionId || !ref.URLToken) {
    telemetry.log.warn('Cannot inject SMS status: the request carried no complete Cognigy ids', log);
    return 'skipped';
  }
  let endpointBaseUrl: string | undefined;
  try {
    endpointBaseUrl = ref.endpointBaseUrl ?? (await cognigy.defaultEndpointBaseUrl());
  } catch (error) {
    telemetry.log.error('Cannot read the cognigy secret for an SMS status injection', {
      ...log,
      error: error as Error,
    });
    telemetry.count('SmsInjectFailed');
    return 'transient';
  }
  if (!endpointBaseUrl) {
    telemetry.log.error(
      'Cannot inject SMS status: no cognigy.endpointBaseUrl in the request or the cognigy secret',
      log,
    );
    telemetry.count('SmsInjectFailed');
    return 'skipped';
  }
  return { endpointBaseUrl, urlToken: ref.URLToken };
}

/**
 * The injector over the bridge's one Cognigy Endpoint client (its push timeout and the `cognigy` secret's default
 * endpoint base URL, read only when a request named none, are the client's).
 */
export function cognigyInjector(
  cognigy: CognigyEndpoint,
  telemetry: Telemetry = powertoolsTelemetry,
): ReceiptInjector {
  return {
    async inject(record, event, options = {}) {
      if (!wantsInjection(record, event.status)) return 'skipped';
      const log = {
        messageId: record.messageId,
        clientMessageId: record.clientMessageId,
        status: event.status,
      };
      const target = await targetOf(record, cognigy, log, telemetry);
      if (typeof target === 'string') return target;
      try {
        await cognigy.push('inject', target, injectBody(record, event), options);
        telemetry.count('SmsInjected');
        telemetry.log.info('SMS status injected into Cognigy', {
          ...log,
          sessionId: record.cognigy?.sessionId,
        });
        return 'ok';
      } catch (error) {
        telemetry.count('SmsInjectFailed');
        const transient = !(error instanceof UpstreamError) || error.retryable;
        telemetry.log.warn('SMS status injection into Cognigy failed', {
          ...log,
          transient,
          httpStatus: error instanceof UpstreamError ? error.httpStatus : undefined,
          error: (error as Error).message,
        });
        return transient ? 'transient' : 'permanent';
      }
    },
  };
}
