import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TABLES, type SecretName, type TableName } from '../../functions/shared/catalogue';
import { SECRET_DOCS } from '../../functions/shared/catalogue-docs';

export interface BridgeTableProps {
  name: TableName;
  /** RETAIN (default) keeps the data and turns on deletion protection; DESTROY is for development stacks. */
  removalPolicy?: RemovalPolicy;
}

/**
 * A catalogue table (functions/shared/catalogue.ts TABLES): on-demand, TTL, point-in-time recovery, AWS managed encryption, and
 * its GSIs with every attribute projected (the readers fetch whole records by umid/clientMessageId/sessionId).
 */
export class BridgeTable extends Construct {
  readonly tableName: TableName;
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: BridgeTableProps) {
    super(scope, id);
    const spec = TABLES[props.name];
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.tableName = props.name;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: spec.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    });
    for (const index of spec.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(index.sortKey && { sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING } }),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}

/**
 * What the stack puts into a new secret: non-secret defaults, and the key whose value Secrets Manager generates
 * as a placeholder, so that no credential is ever part of the template. Empty strings mark values the operator
 * must set; the functions' shape check rejects them ("not configured") instead of calling 8x8 with them.
 */
export const SECRET_TEMPLATES: Record<
  SecretName,
  { defaults: Record<string, string>; generatedKey?: string }
> = {
  smsCredentials: { defaults: { subAccountId: '', baseUrl: 'https://sms.8x8.com' }, generatedKey: 'apiKey' },
  // The generated value is a usable Authorization value: configure the 8x8 receipt webhook with it.
  smsWebhookAuth: { defaults: {}, generatedKey: 'authorization' },
  // Nothing to generate: an empty apiKey is "not configured" (a random one would pass the shape check and only
  // fail at 8x8 with a 401); X-8x8-Tenant is optional in the Chat Gateway OAS, so tenant may stay empty.
  chatGatewayCredentials: {
    defaults: {
      apiKey: '',
      tenant: '',
      baseUrl: 'https://api.8x8.com',
      jwkUrl: 'https://api.8x8.com/chat-gateway/v1/jwk/{kid}/public',
    },
  },
  // Endpoint base URLs only; Cognigy's per-session URLToken arrives with each request.
  cognigy: { defaults: {} },
};

/** The secret's description: its purpose and the documented JSON shape (keys from functions/shared/catalogue-docs.ts SECRET_DOCS). */
export function secretDescription(name: SecretName): string {
  const spec = SECRET_DOCS[name];
  const keys = Object.entries(spec.shape)
    .map(([key, meaning]) => `"${key}": ${meaning}`)
    .join('; ');
  return `${spec.description}. JSON object: {${keys}}`.slice(0, 2048);
}

export interface BridgeSecretProps {
  name: SecretName;
  /** Name or full ARN of an existing secret to use instead of creating one. */
  existingSecret?: string;
  removalPolicy?: RemovalPolicy;
}

/** A catalogue secret (functions/shared/catalogue.ts SECRETS), created with a placeholder value or imported by name/ARN. */
export class BridgeSecret extends Construct {
  readonly secretName: SecretName;
  readonly secret: secretsmanager.ISecret;
  /**
   * What the functions receive in the secret's environment variable: the ARN of a created secret, or the name/ARN
   * given for an imported one (an ARN derived from a name ends in `-??????` and is not accepted by GetSecretValue).
   */
  readonly reference: string;
  readonly imported: boolean;

  constructor(scope: Construct, id: string, props: BridgeSecretProps) {
    super(scope, id);
    this.secretName = props.name;
    if (props.existingSecret) {
      this.imported = true;
      this.secret = props.existingSecret.startsWith('arn:')
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', props.existingSecret)
        : secretsmanager.Secret.fromSecretNameV2(this, 'Secret', props.existingSecret);
      this.reference = props.existingSecret;
      return;
    }
    const template = SECRET_TEMPLATES[props.name];
    const secret = new secretsmanager.Secret(this, 'Secret', {
      description: secretDescription(props.name),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...(template.generatedKey
        ? {
            generateSecretString: {
              secretStringTemplate: JSON.stringify(template.defaults),
              generateStringKey: template.generatedKey,
              // Header-safe characters: the value may be sent as an HTTP header as it is.
              excludePunctuation: true,
              includeSpace: false,
              passwordLength: 40,
            },
          }
        : // Nothing secret to generate: start from the plain, non-secret defaults.
          { secretStringValue: SecretValue.unsafePlainText(JSON.stringify(template.defaults)) }),
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "Third-party API keys are rotated in 8x8's consoles; functions re-read every SECRETS_MAX_AGE_SECONDS",
    });
    this.imported = false;
    this.secret = secret;
    this.reference = secret.secretArn;
  }
}
