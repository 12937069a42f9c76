/**
 * The chaos run's accept killer: in a share of POST /sms invocations, sms-accept dies between its record write and
 * its enqueue — the window the transactional outbox closes (functions/sms/sweeper.ts). The local stack runs the
 * functions in this process, so "dying" is done the way a frozen sandbox behaves: the invocation's SendMessageBatch
 * to the SMS queue never returns, and the caller gets what API Gateway answers for a crashed Lambda (502).
 *
 * The doomed invocation runs inside an AsyncLocalStorage scope; SQSClient.prototype.send is wrapped for the run so
 * that only a send made inside such a scope is stopped (the sweeper and the stack's own clients are untouched).
 * The record and the idempotency answer are committed by then (the idempotency guard completes before the
 * enqueue), exactly what a real kill leaves behind.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { FunctionName } from '../../functions/shared/catalogue';
import type { LambdaHandler } from '../local/lambda';

/** Header on the 502 of a killed invocation, so the run can tell its own fault from a bridge failure. */
export const KILLED_HEADER = 'x-chaos-killed';

const KILLED_ANSWER: APIGatewayProxyResult = {
  statusCode: 502,
  headers: { 'content-type': 'application/json', [KILLED_HEADER]: 'sms-accept' },
  body: JSON.stringify({ message: 'Internal server error' }),
};

type Send = (this: SQSClient, command: unknown, ...rest: unknown[]) => Promise<unknown>;

export class AcceptKiller {
  /** Invocations that died between the record write and the enqueue. */
  kills = 0;
  private readonly scope = new AsyncLocalStorage<{ kill: () => void }>();
  private restore: (() => void) | undefined;

  constructor(
    private readonly share: number,
    private readonly random: () => number,
  ) {}

  /** Stops, inside a doomed invocation, every send to `smsQueueUrl` (until uninstall). */
  install(smsQueueUrl: string): void {
    if (this.restore) return;
    const proto = SQSClient.prototype as unknown as { send: Send };
    const ownSend = Object.hasOwn(proto, 'send');
    const original = proto.send;
    const scope = this.scope;
    proto.send = function (this: SQSClient, command: unknown, ...rest: unknown[]) {
      const doomed = scope.getStore();
      if (doomed && command instanceof SendMessageBatchCommand && command.input.QueueUrl === smsQueueUrl) {
        doomed.kill();
        // The sandbox is gone: this call never comes back.
        return new Promise<never>(() => undefined);
      }
      return original.call(this, command, ...rest);
    };
    this.restore = () => {
      if (ownSend) proto.send = original;
      else delete (proto as { send?: Send }).send;
    };
  }

  uninstall(): void {
    this.restore?.();
    this.restore = undefined;
  }

  /** For StartLocalStackOptions.wrapHandler: dooms a share of sms-accept invocations. */
  readonly wrap = (name: FunctionName, handler: LambdaHandler): LambdaHandler => {
    if (name !== 'sms-accept' || this.share <= 0) return handler;
    return (event, context) => {
      if (this.random() >= this.share) return handler(event, context);
      return new Promise((resolve, reject) => {
        const kill = () => {
          this.kills++;
          resolve(KILLED_ANSWER);
        };
        // An invocation that never reaches the enqueue (a refused or repeated SMS) simply answers.
        this.scope.run({ kill }, () => handler(event, context).then(resolve, reject));
      });
    };
  };
}
