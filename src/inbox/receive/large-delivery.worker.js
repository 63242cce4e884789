'use strict';
/**
 * Runs in a worker thread (piscina): parses one large delivery body and does the costly steps of
 * the receive route on it (parse, `JSON.stringify(data)`, the HMAC), so that a 5 MB body, valid
 * or junk, never blocks the main thread, and junk costs it almost nothing: only a verified
 * delivery sends its payload back. Plain CommonJS on purpose: a worker loads it with Node's own
 * loader, under ts-jest as in the build (nest-cli.json copies it next to the compiled code).
 *
 * Answers a shallow view of the body (enough for `deliveryProblems`), whether the signature
 * matches one of the keys (each compared in constant time, as the guard does), and, when it
 * does, the payload to store and the hash of the signed text (`JSON.stringify(body.data)`).
 */
const { createHash, createHmac, timingSafeEqual } = require('node:crypto');
const secureJson = require('secure-json-parse');

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** Longer strings are cut here: the shape check refuses anything past 255 characters anyway. */
const MAX_VIEW_STRING = 256;

/**
 * A value the shape check may see, small whatever was sent: primitives as they are (strings cut
 * at MAX_VIEW_STRING), any array as [], any object as {}.
 */
function shallow(value) {
  if (Array.isArray(value)) return [];
  if (typeof value === 'object' && value !== null) return {};
  if (typeof value === 'string' && value.length > MAX_VIEW_STRING) return value.slice(0, MAX_VIEW_STRING);
  return value;
}

function verify(signedText, keys, signature) {
  if (typeof signature !== 'string' || !HEX_SHA256.test(signature)) return false;
  const given = Buffer.from(signature, 'hex');
  let verified = false;
  for (const key of keys) {
    verified = timingSafeEqual(createHmac('sha256', key).update(signedText, 'utf8').digest(), given) || verified;
  }
  return verified;
}

/** SHA-256 of the signed text: how the inbox recognises a delivery re-sent under a new id_event. */
function signedTextHash(signedText) {
  return createHash('sha256').update(signedText, 'utf8').digest();
}

/** @param task {{ bytes: Uint8Array, keys: import('node:crypto').KeyObject[], signature?: string }} */
module.exports = function parseLargeDelivery({ bytes, keys, signature }) {
  let body;
  try {
    // Fastify's own JSON parser, with the same refusals (prototype poisoning is a 400 too).
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    return { invalidJson: true };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { view: shallow(body) };
  const data = body.data;
  // `data` only by its type: its content comes back as `payloadJson`, and only once verified.
  const view = {
    id_event: shallow(body.id_event),
    type: shallow(body.type),
    data: typeof data === 'string' ? '' : shallow(data),
  };
  if (typeof data !== 'string' && (typeof data !== 'object' || data === null)) return { view, isObject: true };
  let signedText;
  try {
    signedText = JSON.stringify(data);
  } catch {
    // Nested too deep for JSON.stringify's stack: refused as too deep, like inline.
    return { view, isObject: true, tooDeep: true };
  }
  if (!verify(signedText, keys, signature)) return { view, isObject: true, verified: false };
  return {
    view,
    isObject: true,
    verified: true,
    // What the inbox stores: the string's content, or the object serialised (the signed text).
    payloadJson: typeof data === 'string' ? data : signedText,
    signedHash: signedTextHash(signedText),
  };
};
