// The thread that checks passwords against bcrypt hashes (basic-auth.ts): bcrypt is slow on
// purpose, and in JavaScript it would hold the event loop that answers scrapes. One check at a
// time, in the order asked.
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import type { PasswordReply, PasswordRequest } from './basic-auth.js';

parentPort!.on('message', (request: PasswordRequest) => {
  let reply: PasswordReply;
  try {
    reply =
      request.type === 'compare'
        ? { id: request.id, ok: bcrypt.compareSync(request.password, request.hash) }
        : { id: request.id, hash: bcrypt.hashSync(request.password, request.cost) };
  } catch {
    reply = { id: request.id, ok: false };
  }
  parentPort!.postMessage(reply);
});
