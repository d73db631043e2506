import type { Construct } from 'constructs';
import { Fn, TerraformVariable } from 'cdktf';
import { generatedPassword } from '../constructs/core/random-provider';
import { postgresConnectionUrl } from '../constructs/docker/postgres-container';
import { redisConnectionUrl } from '../constructs/docker/redis-container';
import type { DataDependency } from '../system/model';
import type { ResolvedProduct } from '../system/resolve';
import { dataPasswordOutputName, dataUrlOutputName, sharedSecretOutputName } from './outputs';
import { SystemStack, type SystemStackProps } from './system-stack';

/** The Terraform address (`random_password.<id>`) of the product's password on each data service: a contract, kept stable. */
export const CREDENTIALS_PASSWORD_IDS: Readonly<Record<DataDependency, string>> = { postgres: 'postgres-role-password', redis: 'redis-user-password' };

export interface CredentialsStackProps extends SystemStackProps {
  /** The product whose roles on the environment's PostgreSQL and Redis containers this stack holds the passwords of. */
  readonly product: ResolvedProduct;
}

/**
 * `<env>-<product>-credentials`: the generated passwords of one product's
 * roles on the environment's data containers, and its connection strings.
 *
 * Terraform shares state per workspace, never per output: whoever reads a
 * stack's outputs can read all of them. So the passwords live in a stack of
 * their own per product, read by exactly two others: the data stack, which
 * sets them on the servers, and the product's stack, which hands the URLs to
 * the services that use them. No product stack reads the data stack, and
 * under Terraform Cloud each workspace's remote state is shared with its
 * readers only (bootstrap-stack.ts), so a product's workspace, its runs and
 * its team cannot read another product's credentials.
 */
export class CredentialsStack extends SystemStack {
  /** The product these credentials belong to. */
  public readonly product: ResolvedProduct;
  /** The data services whose credentials are here, in DATA_DEPENDENCIES order. */
  public readonly dataServices: readonly DataDependency[];

  public constructor(scope: Construct, props: CredentialsStackProps) {
    const { environment, product } = props;
    if (product.credentialsStackName === undefined) {
      throw new Error(`${environment.name}/${product.name}: uses no PostgreSQL or Redis container and no accessory with shared secrets, so it has no credentials stack`);
    }
    super(scope, product.credentialsStackName, props);
    this.product = product;
    this.dataServices = environment.data.containers.map((service) => service.name).filter((name) => product.data[name] === 'container');
    for (const dependency of this.dataServices) {
      const service = environment.data.containers.find((candidate) => candidate.name === dependency)!;
      // Named for whose password it is: in the data stack `redis-password` is Redis's admin user's (ops_admin).
      const password = generatedPassword(this, CREDENTIALS_PASSWORD_IDS[dependency]);
      this.publish(dataPasswordOutputName(dependency), password, {
        sensitive: true,
        description: `Password of ${product.name}'s ${dependency === 'postgres' ? 'PostgreSQL role' : 'Redis ACL user'}, for the data stack to set`,
      });
      const url =
        dependency === 'postgres'
          ? postgresConnectionUrl({ database: product.databaseName, password, host: service.connectionHost })
          : redisConnectionUrl({ user: product.name, password, host: service.connectionHost });
      this.publish(dataUrlOutputName(dependency), url, {
        sensitive: true,
        description:
          dependency === 'postgres'
            ? `DATABASE_URL of ${product.name}: its own database and role`
            : `REDIS_URL of ${product.name}: its own ACL user, keys under "${product.name}:"`,
      });
    }
    for (const secret of product.sharedSecrets) this.shareSecret(secret.accessory, secret.name);
  }

  /**
   * A secret the accessory and the product's services both receive:
   * generated here once, unless the variable of its name is set (a value the
   * vendor issued, or one kept from before), then that value. The data stack
   * reads it for the accessory, the product stack for its services.
   */
  private shareSecret(accessory: string, name: string): void {
    const supplied = new TerraformVariable(this, name.toLowerCase(), {
      type: 'string',
      sensitive: true,
      // Empty means unset (coalesce skips null and ""; a null default is refused by cdktf's synth).
      default: '',
      description: `${name} shared by the ${accessory} accessory and ${this.product.name}'s services; leave unset to have it generated`,
    });
    const generated = generatedPassword(this, `${accessory}-${name.toLowerCase().replace(/_/g, '-')}`);
    this.publish(sharedSecretOutputName(accessory, name), Fn.coalesce([supplied.stringValue, generated]), {
      sensitive: true,
      description: `${name} of the ${accessory} accessory, shared with ${this.product.name}'s services that use it`,
    });
  }
}