/**
 * The member-session provider, by name: imported instead of `@aws-sdk/credential-providers`, whose namespace holds every
 * provider of the SDK (Cognito, SSO, the INI chain…), for the reason aws/ec2.ts gives.
 */
export { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
