/** Identity of the local "account": ARNs and queue URLs use it, and the SDK signs with the dummy credentials. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/** Dummy credentials: the stand-ins do not check signatures, but the SDK insists on signing. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** URLToken of the SMS bot's REST Endpoint on the Cognigy simulator: SMS_BOT_ENDPOINT_URL's default in local mode. */
export const LOCAL_SMS_BOT_URL_TOKEN = 'local-sms-bot';
/** The 8x8 number a handset texts in the local console by default (any number works: the simulator accepts all). */
export const LOCAL_SMS_NUMBER = '+6568008888';
/** The console handset's default phone number (the SMS form's default destination too). */
export const LOCAL_HANDSET_NUMBER = '+6591234567';
