/**
 * Hetzner Cloud locations and the network zone each belongs to. A private
 * network's subnet must sit in the zone of the servers attached to it.
 */
export const HETZNER_LOCATIONS = {
  fsn1: { city: 'Falkenstein', country: 'DE', networkZone: 'eu-central' },
  nbg1: { city: 'Nuremberg', country: 'DE', networkZone: 'eu-central' },
  hel1: { city: 'Helsinki', country: 'FI', networkZone: 'eu-central' },
  ash: { city: 'Ashburn', country: 'US', networkZone: 'us-east' },
  hil: { city: 'Hillsboro', country: 'US', networkZone: 'us-west' },
  sin: { city: 'Singapore', country: 'SG', networkZone: 'ap-southeast' },
} as const;

export type HetznerLocation = keyof typeof HETZNER_LOCATIONS;

export function isHetznerLocation(value: string): value is HetznerLocation {
  return Object.prototype.hasOwnProperty.call(HETZNER_LOCATIONS, value);
}
