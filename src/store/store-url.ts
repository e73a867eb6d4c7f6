/** What a store spec is and how it may be printed, without loading a database driver. */

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** True when the spec names a PostgreSQL store (postgres:// or postgresql://). */
export function isPostgresSpec(spec: string): boolean {
  return typeof spec === 'string' && POSTGRES_URL.test(spec.trim());
}

/** The URL with its password (user:password@, and password= / sslpassword= parameters) replaced by ***. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*?):([^@/?#]*)@/i, '$1$2:***@').replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}


/** The spec as it may be printed: a PostgreSQL URL with its password replaced by ***, a path as it is. */
export function displayStoreSpec(spec: string): string {
  return isPostgresSpec(spec) ? redactUrl(spec.trim()) : spec;
}
