/**
 * Redis on the engine, as Terraform applied it: the server's container holds no password (its environment and
 * command, read back from the daemon, contain none of the passwords its clients hold), the `default` user PINGs
 * without one and may read no key, each product's REDIS_URL logs in as that product (Terraform's sha256() of the
 * password it holds is the hash the server checks), and the backup job dumps an RDB as its admin user.
 */
import type { EngineClient } from './api';

/** Problems found; empty where the environment runs no Redis container. */
export async function redisFindings(client: EngineClient, where: string): Promise<{ problems: string[]; lines: string[] }> {
  const listed = await client.request<any[]>('GET', '/containers/json');
  const redis = listed.find((c) => c.Labels?.service === 'redis' && c.Names?.[0] === '/redis');
  if (!redis) return { problems: [], lines: [] };
  const problems: string[] = [];
  const envOf = async (id: string): Promise<Record<string, string>> =>
    Object.fromEntries(((await client.inspect(id)).Config.Env ?? []).map((entry: string) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  const server = await client.inspect(redis.Id);
  const serverText = JSON.stringify({ env: server.Config.Env, cmd: server.Config.Cmd, entrypoint: server.Config.Entrypoint });

  const passwords: string[] = [];
  const logins: string[] = [];
  for (const container of listed.filter((c) => c.Id !== redis.Id)) {
    const url = (await envOf(container.Id)).REDIS_URL;
    const parsed = url === undefined ? undefined : /^redis:\/\/([a-z0-9-]+):([^@]+)@[^:/]+:(\d+)\/0$/.exec(url);
    if (!parsed) continue;
    const [, user, password, port] = parsed;
    passwords.push(password!);
    if (logins.includes(user!)) continue;
    const whoami = await client.exec(redis.Id, ['redis-cli', '--no-auth-warning', '-u', `redis://${user}:${password}@127.0.0.1:${port}/0`, 'ACL', 'WHOAMI']);
    if (whoami.output.trim() !== user) problems.push(`${where}: ${container.Names[0]}'s REDIS_URL does not log in as "${user}" on the Redis container: ${whoami.output.trim()}`);
    logins.push(user!);
  }
  const backup = listed.find((c) => c.Names?.[0] === '/backup-job');
  if (backup) {
    const admin = (await envOf(backup.Id)).REDISCLI_AUTH;
    if (admin) passwords.push(admin);
    const dump = await client.exec(backup.Id, ['sh', '-c', 'redis-cli -h "$REDIS_HOST" --user "$REDIS_USER" --rdb /tmp/e2e-dump.rdb >/dev/null && head -c 5 /tmp/e2e-dump.rdb; rm -f /tmp/e2e-dump.rdb']);
    if (dump.exitCode !== 0 || !dump.output.includes('REDIS')) problems.push(`${where}: the backup job's redis-cli --rdb as its admin user failed: ${dump.output.trim()}`);
  }
  if (passwords.length === 0) problems.push(`${where}: no container holds a Redis password, so the Redis checks checked nothing`);
  if (passwords.some((password) => serverText.includes(password))) problems.push(`${where}: the Redis container's environment or command holds a plaintext password`);
  const ping = await client.exec(redis.Id, ['redis-cli', 'ping']);
  const read = await client.exec(redis.Id, ['redis-cli', 'GET', `${logins[0] ?? 'any'}:key`]);
  if (ping.output.trim() !== 'PONG') problems.push(`${where}: an unauthenticated redis-cli ping answered ${ping.output.trim()}`);
  if (!/NOPERM/.test(read.output)) problems.push(`${where}: the unauthenticated default user may read a key: ${read.output.trim()}`);
  return {
    problems,
    lines: [`Redis: ${new Set(passwords).size} passwords held by its clients, none in its container; ${logins.length} product users logged in (${logins.join(', ')}); default may PING only${backup ? '; the backup job dumped an RDB as its admin user' : ''}`],
  };
}
