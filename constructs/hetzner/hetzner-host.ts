import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { PrimaryIp } from '../../.gen/providers/hcloud/primary-ip';
import { Server } from '../../.gen/providers/hcloud/server';
import { HETZNER_SERVER_TYPES } from './server-types';
import type { PrivateNetwork } from './private-network';
import { ReverseDns } from './reverse-dns';

/** Where the server joins the private network: by network (with its subnet created first) or by subnet id. */
export type NetworkAttachment =
  | { readonly network: PrivateNetwork; readonly ip: string }
  | { readonly subnetId: string; readonly ip: string };

export interface HetznerHostProps {
  /** Hetzner server name, unique in the project. */
  readonly serverName: string;
  /** Server type (`ccx33`). */
  readonly serverType: string;
  /** OS image. @default 'ubuntu-24.04' */
  readonly image?: string;
  /** Hetzner location (`fsn1`). */
  readonly location: string;
  /** Ids of the SSH keys Hetzner installs for root (used only by rescue; root login is disabled). */
  readonly sshKeyIds: readonly string[];
  /** Firewalls applied to the server. */
  readonly firewallIds: readonly string[];
  /** Private network membership, exactly one form. */
  readonly privateNetwork: NetworkAttachment;
  /** Spread placement group, when an environment has several hosts. @default - none */
  readonly placementGroupId?: string;
  /** Cloud-init user data. */
  readonly userData: string;
  /** Name the primary IPs' reverse DNS points at. */
  readonly fqdn: string;
  /**
   * Production safety: delete and rebuild protection on the server and its
   * IPs, and `ignore_changes` on the fields that would re-provision it.
   * @default true
   */
  readonly protection?: boolean;
  /** Hetzner automatic backups (7 daily images, +20% of the server price). @default true */
  readonly backups?: boolean;
  /** Labels on the server and its IPs. @default - none */
  readonly labels?: Record<string, string>;
}

/**
 * A Hetzner server with its own primary IPv4 and IPv6 (they survive a server
 * replacement, so DNS does not change), reverse DNS for both, the private
 * network and the firewall.
 */
export class HetznerHost extends Construct {
  public readonly server: Server;
  public readonly ipv4: PrimaryIp;
  public readonly ipv6: PrimaryIp;
  /** The address the host has in the private network. */
  public readonly privateIp: string;

  public constructor(scope: Construct, id: string, props: HetznerHostProps) {
    super(scope, id);
    if (HETZNER_SERVER_TYPES[props.serverType] === undefined) {
      throw new Error(`HetznerHost ${props.serverName}: unknown server type "${props.serverType}"; known: ${Object.keys(HETZNER_SERVER_TYPES).join(', ')}`);
    }
    const protection = props.protection ?? true;
    const primaryIp = (type: 'ipv4' | 'ipv6') => {
      const ip = new PrimaryIp(this, type, {
        name: `${props.serverName}-${type}`,
        type,
        location: props.location,
        assigneeType: 'server',
        // Keep the address when the server is replaced: DNS and allow-lists stay valid.
        autoDelete: false,
        deleteProtection: protection,
        labels: props.labels,
      });
      // Stateful (the address is the host's identity in DNS): pin a readable address before anything references it.
      ip.overrideLogicalId(`${id}-${type}`);
      return ip;
    };
    this.ipv4 = primaryIp('ipv4');
    this.ipv6 = primaryIp('ipv6');
    this.privateIp = props.privateNetwork.ip;

    const attachment = props.privateNetwork;
    this.server = new Server(this, 'server', {
      name: props.serverName,
      serverType: props.serverType,
      image: props.image ?? 'ubuntu-24.04',
      location: props.location,
      sshKeys: [...props.sshKeyIds],
      firewallIds: props.firewallIds.map((firewallId) => Token.asNumber(firewallId)),
      placementGroupId: props.placementGroupId === undefined ? undefined : Token.asNumber(props.placementGroupId),
      userData: props.userData,
      labels: props.labels,
      backups: props.backups ?? true,
      deleteProtection: protection,
      rebuildProtection: protection,
      // Stop services cleanly (databases flush) before Hetzner deletes or resizes the server.
      shutdownBeforeDeletion: true,
      publicNet: [{ ipv4Enabled: true, ipv4: this.ipv4.id, ipv6Enabled: true, ipv6: this.ipv6.id }],
      network: [
        'network' in attachment
          ? { networkId: attachment.network.networkId, ip: attachment.ip }
          : { subnetId: attachment.subnetId, ip: attachment.ip },
      ],
      // The server can only join the network once the subnet exists.
      dependsOn: 'network' in attachment ? [attachment.network.subnet] : undefined,
      lifecycle: protection
        ? {
            // A change to any of these would rebuild a running server and lose its containers' state;
            // re-provision deliberately with `terraform apply -replace` instead.
            ignoreChanges: ['user_data', 'image', 'ssh_keys'],
          }
        : undefined,
    });

    // Stateful: readable, stable addresses (`hcloud_server.host-app-1`) that a refactor of the tree cannot move.
    this.server.overrideLogicalId(id);

    new ReverseDns(this, 'rdns-ipv4', { target: { primaryIpId: this.ipv4.id }, ipAddress: this.ipv4.ipAddress, dnsPtr: props.fqdn });
    new ReverseDns(this, 'rdns-ipv6', { target: { primaryIpId: this.ipv6.id }, ipAddress: this.server.ipv6Address, dnsPtr: props.fqdn });
  }
}
