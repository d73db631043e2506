/**
 * Least privilege between containers, as far as this daemon can show it. It runs with --iptables=false (no
 * netfilter rules of its own on a machine shared with other runs), and Docker enforces two things with iptables
 * rules only: that bridge networks do not forward to each other (DOCKER-ISOLATION-STAGE-1/2) and that an
 * `internal` network has no way out (moby libnetwork drivers/bridge setup_ip_tables.go, setINC / internal-network
 * DROP rules). What is Docker's own doing without iptables, and is checked here on the engine:
 * - membership: a container is attached to exactly the networks it is given, and an internal network is internal;
 * - names: Docker's embedded DNS (127.0.0.11) answers a container only for containers on a network it shares, so
 *   a public service cannot even name the data services (probed live, from inside every container).
 * What is not checkable here, and printed as measured: packets by IP address across networks, and egress from an
 * internal network (the container still gets a default route; the DROP rules are what stop it in production).
 */
import type { EngineClient } from './api';

/** The names other containers are known by on a network: the container's name and its aliases there (not the short ids). */
function namesOn(info: any, network: string): string[] {
  const aliases: string[] = info.NetworkSettings.Networks[network]?.Aliases ?? [];
  return [info.Name.slice(1), ...aliases].filter((n) => !/^[0-9a-f]{12}$/.test(n));
}

/** Names that resolve (or not) from inside a container; a name counts as resolved when a connection attempt gets past DNS. */
async function resolvedNames(client: EngineClient, container: string, names: readonly string[], hasShell: boolean): Promise<string[]> {
  if (hasShell) {
    // Port 1: a resolved name is refused at once; an unknown one fails in the resolver (or times out asking upstream).
    // $out unquoted: one line per name.
    const script = names.map((n) => `( out=$(timeout 3 bash -c 'exec 3<>/dev/tcp/${n}/1' 2>&1); rc=$?; echo "${n} $rc" $out ) &`).join('\n');
    const probe = await client.exec(container, ['sh', '-c', `${script}\nwait`]);
    return probe.output
      .split('\n')
      .filter((line) => /^\S+ 0 |refused|reset|unreachable|No route/i.test(line))
      .map((line) => line.split(' ')[0]);
  }
  const script = `let pending = process.argv.length - 1; for (const n of process.argv.slice(1)) require('dns').lookup(n, (e) => { if (!e) console.log(n); if (--pending === 0) process.exit(0); }); setTimeout(() => process.exit(0), 3000);`;
  const probe = await client.exec(container, ['/usr/bin/node', '-e', script, ...names]);
  return probe.output.split('\n').filter((n) => names.includes(n.trim())).map((n) => n.trim());
}

/** Problems and measured facts about the isolation between the running containers (`listed`, from GET /containers/json). */
export async function isolationFindings(client: EngineClient, listed: readonly any[], shells: ReadonlyMap<string, boolean>, where: string): Promise<{ problems: string[]; facts: string[] }> {
  const problems: string[] = [];
  const facts: string[] = [];
  const infos = await Promise.all(listed.map((c) => client.inspect(c.Id)));
  const networks = new Map<string, any>((await client.request<any[]>('GET', '/networks')).map((n) => [n.Name, n]));
  const netsOf = (info: any) => Object.keys(info.NetworkSettings.Networks);
  await Promise.all(
    infos.map(async (info) => {
      const mine = new Set(netsOf(info));
      const known = new Set(infos.filter((other) => netsOf(other).some((n) => mine.has(n))).flatMap((other) => netsOf(other).filter((n) => mine.has(n)).flatMap((n) => namesOn(other, n))));
      const foreign = [...new Set(infos.filter((other) => !netsOf(other).some((n) => mine.has(n))).flatMap((other) => netsOf(other).flatMap((n) => namesOn(other, n))))].filter((n) => !known.has(n));
      if (foreign.length === 0) return;
      const leaked = await resolvedNames(client, info.Id, foreign, shells.get(info.Name.slice(1)) ?? true);
      if (leaked.length > 0) problems.push(`${where} ${info.Name.slice(1)} (networks ${[...mine].join(', ')}): resolves ${leaked.join(', ')}, which share no network with it`);
    }),
  );
  // The facts iptables would change: one internal-only container's way out, one public container's reach by IP.
  const internalOnly = infos.find((info) => netsOf(info).length > 0 && netsOf(info).every((n) => networks.get(n)?.Internal));
  if (internalOnly && (shells.get(internalOnly.Name.slice(1)) ?? true)) {
    const out = await client.exec(internalOnly.Id, ['sh', '-c', "grep -c '^\\S*\\s00000000' /proc/net/route; timeout 3 bash -c 'exec 3<>/dev/tcp/192.0.2.1/80' 2>&1 || true"]);
    const [defaultRoutes, ...connect] = out.output.trim().split('\n');
    facts.push(`internal-only ${internalOnly.Name.slice(1)}: ${defaultRoutes === '0' ? 'no default route' : 'a default route'}, a connection out (192.0.2.1:80) says "${connect.join(' ').trim().replace(/^Terminated$/, 'no answer within 3 s') || 'connected'}" (not enforceable with --iptables=false)`);
  }
  const internalNet = [...networks.values()].find((n) => n.Internal && infos.some((i) => netsOf(i).includes(n.Name)));
  const dataMember = internalNet && infos.find((i) => netsOf(i).includes(internalNet.Name));
  const outsider = internalNet && infos.find((i) => !netsOf(i).includes(internalNet.Name) && (shells.get(i.Name.slice(1)) ?? true));
  if (dataMember && outsider) {
    const ip = dataMember.NetworkSettings.Networks[internalNet.Name].IPAddress;
    const out = await client.exec(outsider.Id, ['sh', '-c', `timeout 3 bash -c 'exec 3<>/dev/tcp/${ip}/1' 2>&1; echo exit $?`]);
    facts.push(`${outsider.Name.slice(1)} -> ${dataMember.Name.slice(1)} by IP (${ip}, ${internalNet.Name}): "${out.output.trim().replace(/\s+/g, ' ')}" (refused = reached: no isolation rules without iptables)`);
  }
  return { problems, facts };
}
