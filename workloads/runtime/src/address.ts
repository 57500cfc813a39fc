/**
 * `host:port` addresses of peers and storage nodes, as configured or sent to an admin API: a DNS name,
 * IPv4 or [IPv6] host and a port in 1..65535. Checked before anything is persisted, so one bad entry can
 * never break requests or a restart.
 */
import { DsmError } from '@dsm/protocol';

// host (name, IPv4 or [IPv6]) ':' port in canonical decimal (no leading zero).
const HOST_PORT =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9a-fA-F:.]+\]):([1-9][0-9]{0,4})$/;

/** Whether `value` (surrounding spaces aside) is `host:port` with a port in 1..65535. Pure. */
export function isHostPort(value: string): boolean {
  const match = HOST_PORT.exec(value.trim());
  return match !== null && Number(match[1]) <= 65535;
}

/** `value` trimmed and lower-cased; E_BAD_REQUEST naming the field when it is not `host:port`. */
export function parseHostPort(value: string, field = 'peer'): string {
  const trimmed = value.trim();
  if (!isHostPort(trimmed)) {
    throw new DsmError('E_BAD_REQUEST', `${field}: "${value}" is not host:port (port 1 to 65535)`, {
      field,
      value,
    });
  }
  return trimmed.toLowerCase();
}
