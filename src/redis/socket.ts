/**
 * The socket under an ioredis client: `stream` is not in ioredis' public types. Dropping a
 * connection that answers nothing is done by destroying it: quit() and disconnect() wait for
 * the peer's FIN, through minutes of retransmissions on a dead connection.
 */
export interface ClientSocket {
  destroy(): void
  destroyed?: boolean
}

export function socketOf(client: object): ClientSocket | undefined {
  return (client as { stream?: ClientSocket }).stream
}
