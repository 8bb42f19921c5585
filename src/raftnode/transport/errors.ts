/** Why a connection was closed by the protocol layer; logged and kept in stats. */
export type ProtocolErrorReason =
  | 'badLength'
  | 'frameTooLarge'
  | 'unknownVersion'
  | 'badCbor'
  | 'badShape'
  | 'handshakeRefused'
  | 'handshakeTimeout'
  | 'unexpectedFrame';

/** The peer broke the wire protocol or was refused; only its connection is closed. */
export class ProtocolError extends Error {
  constructor(
    readonly reason: ProtocolErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
