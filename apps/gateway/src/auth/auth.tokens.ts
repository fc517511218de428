export const SESSIONS = Symbol('SESSIONS');
export const PASSWORD_LOGIN = Symbol('PASSWORD_LOGIN');
export const API_TOKENS = Symbol('API_TOKENS');
/** The OidcAuthenticator, or null when single sign-on is not configured. */
export const OIDC = Symbol('OIDC');
