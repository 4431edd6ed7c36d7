// The local issuer's development users, standing in for a Cognito user pool with its groups (README, "Signing
// in"). A group gives scopes, as the `auditors` group of the Cognito pool gives the audit scope; a user is
// granted the intersection of the scopes a client asks for and the scopes the user's groups allow. Every
// development user's password is the same, printed by `npm start`: this runs on a laptop, never on AWS.

import { timingSafeEqual } from "node:crypto";
import { SCOPES, type Scope } from "../../contract/auth";

/** The password of every development user. It is public (README): the local issuer is not a security boundary. */
export const DEVELOPMENT_PASSWORD = "counter-ledger";

/** The scopes each group allows. */
export const GROUP_SCOPES: Readonly<Record<string, readonly Scope[]>> = {
  writers: [SCOPES.write],
  auditors: [SCOPES.write, SCOPES.audit],
};

export interface DevelopmentUser {
  readonly username: string;
  /** As `cognito:groups` carries them. */
  readonly groups: readonly string[];
}

/** alice and bob write, audrey writes and audits, rita may sign in but has no API scope. */
export const DEVELOPMENT_USERS: Readonly<Record<string, DevelopmentUser>> = {
  alice: { username: "alice", groups: ["writers"] },
  bob: { username: "bob", groups: ["writers"] },
  audrey: { username: "audrey", groups: ["auditors"] },
  rita: { username: "rita", groups: [] },
};

export function findUser(username: string): DevelopmentUser | undefined {
  return Object.hasOwn(DEVELOPMENT_USERS, username) ? DEVELOPMENT_USERS[username] : undefined;
}

/** The scopes a user's groups allow. */
export function scopesOf(user: DevelopmentUser): ReadonlySet<Scope> {
  return new Set(user.groups.flatMap((group) => GROUP_SCOPES[group] ?? []));
}

/** Of the requested API scopes, those the user may have, in the order asked. */
export function grantableScopes(user: DevelopmentUser, requested: Iterable<string>): Scope[] {
  const allowed = scopesOf(user);
  return [...new Set(requested)].filter((scope): scope is Scope => allowed.has(scope as Scope));
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The user when the name and password match, else undefined (which of the two was wrong is not said). */
export function authenticate(username: string, password: string): DevelopmentUser | undefined {
  const user = findUser(username);
  const passwordMatches = sameText(password, DEVELOPMENT_PASSWORD);
  return user !== undefined && passwordMatches ? user : undefined;
}
