import { Signer } from '@aws-sdk/rds-signer';
import { GatehouseError } from '../../errors/catalogue.js';

/** Where a token is valid: RDS signs host, port and user into the presigned URL. */
export interface AuthTokenTarget {
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly region: string;
}

/** Mints an RDS IAM authentication token. Called once for every NEW connection: a token is
 * only checked when a connection authenticates and is valid for 15 minutes, so it is never
 * cached (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html). */
export interface AuthTokenProvider {
  getToken(target: AuthTokenTarget): Promise<string>;
}

/** The credentials the AWS SDK accepts: static keys or a provider function. Taken from the
 * signer's own config type so we do not depend on @smithy/types directly. */
export type RdsSignerCredentials = NonNullable<
  ConstructorParameters<typeof Signer>[0]['credentials']
>;

/** Signs locally with SigV4 (service `rds-db`, `X-Amz-Expires=900`); no network call. Without
 * `credentials` the SDK's default provider chain (env, web identity, ECS/EC2 role) is used. */
export function rdsSignerTokenProvider(credentials?: RdsSignerCredentials): AuthTokenProvider {
  return {
    async getToken(target) {
      try {
        const signer = new Signer({
          hostname: target.hostname,
          port: target.port,
          username: target.username,
          region: target.region,
          ...(credentials === undefined ? {} : { credentials }),
        });
        return await signer.getAuthToken();
      } catch (cause) {
        throw new GatehouseError(
          'IAM_TOKEN_FAILED',
          `Could not mint an RDS IAM token for ${target.username}@${target.hostname}:${target.port}: ${messageOf(cause)}`,
          { cause },
        );
      }
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
