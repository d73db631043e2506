/**
 * Hetzner Cloud server types: vCPUs and RAM, for validation and capacity
 * planning. Taken from Hetzner's published list on 2025-06-01; re-check with
 * `hcloud server-type list` before relying on a new type.
 */
export const SERVER_TYPES_TAKEN_ON = '2025-06-01';

export interface ServerTypeFacts {
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly diskGiB: number;
  /** Dedicated vCPUs (CCX) rather than shared. */
  readonly dedicated: boolean;
  readonly architecture: 'x86' | 'arm';
}

const shared = (vcpus: number, memoryGiB: number, diskGiB: number, architecture: 'x86' | 'arm' = 'x86'): ServerTypeFacts => ({
  vcpus,
  memoryGiB,
  diskGiB,
  dedicated: false,
  architecture,
});
const dedicated = (vcpus: number, memoryGiB: number, diskGiB: number): ServerTypeFacts => ({
  vcpus,
  memoryGiB,
  diskGiB,
  dedicated: true,
  architecture: 'x86',
});

export const HETZNER_SERVER_TYPES: Readonly<Record<string, ServerTypeFacts>> = {
  cx22: shared(2, 4, 40),
  cx32: shared(4, 8, 80),
  cx42: shared(8, 16, 160),
  cx52: shared(16, 32, 320),
  cpx11: shared(2, 2, 40),
  cpx21: shared(3, 4, 80),
  cpx31: shared(4, 8, 160),
  cpx41: shared(8, 16, 240),
  cpx51: shared(16, 32, 360),
  cax11: shared(2, 4, 40, 'arm'),
  cax21: shared(4, 8, 80, 'arm'),
  cax31: shared(8, 16, 160, 'arm'),
  cax41: shared(16, 32, 320, 'arm'),
  ccx13: dedicated(2, 8, 80),
  ccx23: dedicated(4, 16, 160),
  ccx33: dedicated(8, 32, 240),
  ccx43: dedicated(16, 64, 360),
  ccx53: dedicated(32, 128, 600),
  ccx63: dedicated(48, 192, 960),
};

/**
 * Retired names people still write (the source documents say "CCX32" and
 * "CCX42"), mapped to the current type of the same class, so the error can
 * suggest the fix.
 */
export const RETIRED_SERVER_TYPES: Readonly<Record<string, string>> = {
  ccx12: 'ccx13',
  ccx22: 'ccx23',
  ccx32: 'ccx33',
  ccx42: 'ccx43',
  ccx52: 'ccx53',
  ccx62: 'ccx63',
  cx11: 'cx22',
  cx21: 'cx22',
  cx31: 'cx32',
  cx41: 'cx42',
  cx51: 'cx52',
};
