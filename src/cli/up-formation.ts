// `bramble up`'s zero-config formation flags (--bootstrap-expect, a lone --token and their tuning),
// checked into the node's FormationOptions; src/node/formation.ts runs it.
import { networkInterfaces } from 'node:os';
import { maxBootstrapExpect } from '../discovery/records.ts';
import type { FormationOptions } from '../node/options.ts';
import { UsageError } from './output.ts';

/** The raw flags formation reads (strings, as commander and BRAMBLE_* give them). */
export interface FormationFlags {
  initialCluster?: string;
  join?: string;
  bundle?: string;
  token?: string;
  bootstrapExpect?: string;
  bootstrapSettleMs?: string;
  mdnsIntervalMs?: string;
  voters?: string;
  autopilotStableMs?: string;
  autopilotDeadMs?: string;
  memberSearchMs?: string;
  autopilotRemoveDeadMs?: string;
}

function whole(text: string | undefined, flag: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}, got "${text}"`);
  return value;
}

/** A board with only the join token and no --join finds a member by mDNS (zero-config formation without the bundle). */
export function tokenOnly(flags: Pick<FormationFlags, 'token' | 'join' | 'bundle'>): boolean {
  return flags.token !== undefined && flags.join === undefined && flags.bundle === undefined;
}

/**
 * Null without --bootstrap-expect and without a lone --token: then no mDNS at all (nothing leaves
 * the machine unasked). --token without --join implies discovery (bootstrapExpect null).
 */
export function parseFormationOptions(flags: FormationFlags): FormationOptions | null {
  const tuning = ['bootstrapSettleMs', 'mdnsIntervalMs', 'voters', 'autopilotStableMs', 'autopilotDeadMs', 'autopilotRemoveDeadMs', 'memberSearchMs'] as const;
  const discovering = flags.bootstrapExpect !== undefined || tokenOnly(flags);
  if (!discovering) {
    const stray = tuning.find((key) => flags[key] !== undefined);
    if (stray) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} only applies with --bootstrap-expect N or --token without --join (zero-config formation)`);
    return null;
  }
  if (flags.initialCluster !== undefined) throw new UsageError('--bootstrap-expect and --initial-cluster exclude each other: let the boards find each other, or list them yourself');
  const voters = whole(flags.voters, '--voters', 0, 0, 9);
  return {
    bootstrapExpect: flags.bootstrapExpect === undefined ? null : whole(flags.bootstrapExpect, '--bootstrap-expect', 3, 1, maxBootstrapExpect),
    memberSearchMs: whole(flags.memberSearchMs, '--member-search-ms', 120_000, 100),
    settleMs: whole(flags.bootstrapSettleMs, '--bootstrap-settle-ms', 5_000, 0),
    mdnsIntervalMs: whole(flags.mdnsIntervalMs, '--mdns-interval-ms', 1_000, 50),
    voters,
    autopilotStableMs: whole(flags.autopilotStableMs, '--autopilot-stable-ms', 10_000, 0),
    autopilotDeadMs: whole(flags.autopilotDeadMs, '--autopilot-dead-ms', 30_000, 100),
    autopilotRemoveDeadMs: whole(flags.autopilotRemoveDeadMs, '--autopilot-remove-dead-ms', 3_600_000, 0),
  };
}

function lanAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (external) return external.address;
  }
  return undefined;
}

/** With --bootstrap-expect, addresses not given default to this board's LAN address instead of loopback. */
export function withFormationAddressDefaults<F extends FormationFlags & { peerAddr?: string; clientAddr?: string; apiAddr?: string }>(flags: F, lan: string | undefined = lanAddress()): F {
  if ((flags.bootstrapExpect === undefined && !tokenOnly(flags)) || !lan) return flags;
  return { ...flags, peerAddr: flags.peerAddr ?? `${lan}:7380`, clientAddr: flags.clientAddr ?? `${lan}:7379`, apiAddr: flags.apiAddr ?? `${lan}:6443` };
}

