// The peer transport of src/raftnode: see ../README.md (Interface) and PROTOCOL.md (the wire format).

export { formatHostPort, type HostPort, parseHostPort } from './address.ts';
export { Backoff, type BackoffOptions } from './backoff.ts';
export { ProtocolError, type ProtocolErrorReason } from './errors.ts';
export { DEFAULT_MAX_FRAME_BYTES, PROTOCOL_VERSION } from './frame.ts';
export { MemoryNetwork, MemoryTransport, type MemoryTransportOptions } from './memory-transport.ts';
export { DEFAULT_LIMITS } from './options.ts';
export type { TransportTlsOptions } from './sockets.ts';
export { TcpTransport, type TcpTransportOptions } from './tcp-transport.ts';
export type { InboundStats, MessageHandler, PeerStats, Transport, TransportHandlers, TransportLimits, TransportStats } from './types.ts';
