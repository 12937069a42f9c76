/** Identity of the local "account": ARNs and queue URLs use it, and the SDK signs with the dummy credentials. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/** Dummy credentials: the stand-ins do not check signatures, but the SDK insists on signing. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
