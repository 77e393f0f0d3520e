/** The WebSocket subprotocol of the stream. */
export const STREAM_PROTOCOL = 'mailwright.v1';

/** Close code for a client that fell behind its send buffer; it should resume from its last seq. */
export const STREAM_CLOSE_SLOW_CLIENT = 4008;
