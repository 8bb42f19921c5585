/**
 * A start refused because of how the node was configured (a missing bundle, a token for another
 * cluster...): the CLI reports it on stderr with exit code 2, like a flag it could not parse.
 * It lives here, not in cli/, because only the assembly can tell (it reads the data dir).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
