import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../store/users.js';

/** The signed-in user of a request, set by the session hook. */
export interface RequestSession {
  user: User;
  csrf: string;
  token: string;
}

/** Answers a page: status code and HTML. */
export type SendPage = (reply: FastifyReply, code: number, body: string) => FastifyReply;

const sessions = new WeakMap<FastifyRequest, RequestSession>();

/** Records the session of a request (the session hook calls it). */
export function setSession(req: FastifyRequest, session: RequestSession): void {
  sessions.set(req, session);
}

/** The session of a request (set for every route but the public ones). */
export function sessionOf(req: FastifyRequest): RequestSession | undefined {
  return sessions.get(req);
}

/** The fields of a posted form (first value of each name), in a null-prototype object. */
export function formOf(req: FastifyRequest): Record<string, string> {
  return (req.body && typeof req.body === 'object' ? req.body : Object.create(null)) as Record<
    string,
    string
  >;
}
