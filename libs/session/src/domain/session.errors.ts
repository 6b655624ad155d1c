/** Why a session command was refused; the HTTP edge maps each kind to a Lens error. */
export type SessionRefusal =
  | { kind: 'not-found' }
  | { kind: 'already-open' }
  | { kind: 'ended'; status: 'closed' | 'expired' }
  | { kind: 'resource-not-found'; type: string; path: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'too-many'; userName: string; limit: number }
  | { kind: 'auth-failed'; userName: string }
  | { kind: 'param-not-found'; key: string }
  | { kind: 'login-throttled'; retryAfterSeconds: number };

export class SessionRefused extends Error {
  constructor(readonly refusal: SessionRefusal) {
    super(describe(refusal));
    this.name = 'SessionRefused';
  }
}

function describe(r: SessionRefusal): string {
  switch (r.kind) {
    case 'not-found':
      return 'no such session';
    case 'already-open':
      return 'the session already exists';
    case 'ended':
      return `the session is ${r.status}`;
    case 'resource-not-found':
      return `the session has no ${r.type} resource ${r.path}`;
    case 'invalid':
      return r.message;
    case 'too-many':
      return `user ${r.userName} already has ${r.limit} open sessions, the most allowed; close one first`;
    case 'auth-failed':
      return `wrong user name or password for ${r.userName}`;
    case 'param-not-found':
      return `no session parameter ${r.key}`;
    case 'login-throttled':
      return `too many failed logins for this user name or from this address; try again in ${r.retryAfterSeconds} s`;
  }
}
