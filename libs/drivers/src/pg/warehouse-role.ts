import { DriverQueryError } from '../driver';

/** Roles whose members can read or write the server's files or run programs on it. */
const SERVER_FILE_ROLES = ['pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program'];

/**
 * What a new warehouse connection asks first, in the one round trip it always made for its pid:
 * which privileged roles its login role can use (a superuser role, itself included, or a server
 * files role; membership counts even without INHERIT, since SET ROLE reaches it) and whether the
 * role in force may call set_config() (with it, a query can switch to any role the login role is
 * a member of, within one statement).
 */
export const ROLE_CHECK = `SELECT pg_backend_pid() AS pid, session_user AS login,
  (SELECT CASE WHEN bool_or(r.rolsuper AND r.rolname = session_user) THEN 'a superuser'
               ELSE coalesce('member of ' || string_agg(r.rolname || CASE WHEN r.rolsuper THEN ' (superuser)' ELSE '' END, ', ' ORDER BY r.rolname), '') END
   FROM pg_roles r
   WHERE (r.rolsuper OR r.rolname IN (${SERVER_FILE_ROLES.map((r) => `'${r}'`).join(', ')})) AND pg_has_role(session_user, r.oid, 'MEMBER')) AS privileges,
  has_function_privilege('pg_catalog.set_config(text, text, boolean)', 'EXECUTE') AS can_set_config`;

export interface WarehouseRole {
  pid: number;
  login: string;
  /** `a superuser`, or the privileged roles it is a member of (`member of pg_read_server_files`); '' (none) is the goal. */
  privileges: string;
  canSetConfig: boolean;
}

export function readWarehouseRole(row: { pid: number; login: string; privileges: string; can_set_config: boolean }): WarehouseRole {
  return { pid: row.pid, login: row.login, privileges: row.privileges, canSetConfig: row.can_set_config };
}

/** The driver refuses a connection whose role could read server files or act as a superuser. */
export class PrivilegedWarehouseRole extends DriverQueryError {}

export function privilegedRoleMessage(role: WarehouseRole): string {
  return (
    `the warehouse role "${role.login}" is privileged (${role.privileges}): ` +
    'give the pg driver a role with only CONNECT, USAGE and SELECT (docs/security.md), or set QUARRY_PG_ALLOW_PRIVILEGED=true'
  );
}

/** Why per-user roles cannot be trusted on this connection, if they cannot. */
export function perUserRoleProblem(role: WarehouseRole): string | undefined {
  if (!role.canSetConfig) return undefined;
  return (
    'QUARRY_PG_ROLE_PER_USER=true needs set_config() revoked in the warehouse database ' +
    '(REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC): with it, a query can switch to another user\'s role'
  );
}

/**
 * The statements that open each transaction: read-only, the statement timeout and (per-user roles)
 * the user's role, all LOCAL so that whatever a query set with set_config() for the session is
 * overridden again. `role` is already an escaped identifier.
 */
export function transactionPrelude(statementTimeoutMs: number, role?: string): string[] {
  return ['BEGIN READ ONLY', `SET LOCAL statement_timeout = ${statementTimeoutMs}`, ...(role ? [`SET LOCAL ROLE ${role}`] : [])];
}
