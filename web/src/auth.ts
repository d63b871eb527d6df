// Who is signed in, and how. The deployment says how in /auth-config.json (served beside the
// workbench: by devstack's gateway under `make up`, by the reverse proxy in a deployment):
//   {"mode": "dev"}  — `make up` only: the development sign-in page lists the demo users;
//   {"mode": "oidc", "issuer", "client_id", "scope", "claims": {role, bureau, department, name}}
//                    — the bureau's identity provider, authorisation code with PKCE (S256), by
//                      oidc-client-ts. Nothing about the provider is built into the bundle.
// The token lives in sessionStorage: it ends with the browser tab, and a shared desk computer
// never keeps a police officer's token overnight.
import { reactive } from 'vue'
import type { User, UserManager } from 'oidc-client-ts'

export interface SignedInUser {
  user: string
  role: string
  role_label: string
  bureau: string
  bureau_name: string
  department: string
  name: string
}

export interface ClaimNames {
  role: string
  bureau: string
  department: string
  name: string
}

export type AuthConfig =
  | { mode: 'dev' }
  | { mode: 'oidc'; issuer: string; client_id: string; scope: string; claims: ClaimNames }
  | { mode: 'none'; problem: string }

const TOKEN = 'workbench.token'
const USER = 'workbench.user'
const CALLBACK = '/auth/callback'

// The services' roles (petitions.identity.Role) and their Chinese names, for the header.
export const ROLE_LABELS: Record<string, string> = {
  registrar: '登记员',
  handler: '承办人',
  sub_bureau_head: '分县局局长',
  leader: '局领导',
  petition_office: '信访科',
  auditor: '审计/纪检督察',
  admin: '管理员',
  importer: '数据导入',
}

function stored(): SignedInUser | null {
  const raw = sessionStorage.getItem(USER)
  return raw ? (JSON.parse(raw) as SignedInUser) : null
}

export const session = reactive<{ token: string | null; user: SignedInUser | null; config: AuthConfig }>({
  token: sessionStorage.getItem(TOKEN),
  user: stored(),
  config: { mode: 'dev' },
})

export function signIn(token: string, user: SignedInUser): void {
  sessionStorage.setItem(TOKEN, token)
  sessionStorage.setItem(USER, JSON.stringify(user))
  session.token = token
  session.user = user
}

function forget(): void {
  sessionStorage.removeItem(TOKEN)
  sessionStorage.removeItem(USER)
  session.token = null
  session.user = null
}

let manager: UserManager | null = null

/** Sign out here; with an identity provider that offers it, end the provider's session too (a
 * shared desk computer must not sign the next person in as the last one). */
export async function signOut(): Promise<boolean> {
  forget()
  if (manager) {
    const endSession = (await manager.metadataService.getMetadata().catch(() => null))?.end_session_endpoint
    if (endSession) {
      await manager.signoutRedirect({ post_logout_redirect_uri: `${window.location.origin}/login` })
      return true
    }
    await manager.removeUser()
  }
  return false
}

export function hasRole(...roles: string[]): boolean {
  return session.user !== null && roles.includes(session.user.role)
}

/** A claim by its configured name; dots walk into objects (Keycloak: realm_access.roles). */
export function claim(claims: Record<string, unknown>, path: string): unknown {
  let value: unknown = claims
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

function single(value: unknown, allowed?: (v: string) => boolean): string {
  if (Array.isArray(value)) {
    const ours = value.filter((v): v is string => typeof v === 'string' && (!allowed || allowed(v)))
    return ours.length === 1 ? ours[0]! : ''
  }
  return typeof value === 'string' ? value : ''
}

/** Who the access token names, read with the claim names the services use. For the screen
 * only: the services verify the token themselves and decide what is allowed. */
export function userFromToken(token: string, names: ClaimNames, bureauName: (code: string) => string): SignedInUser {
  const payload = token.split('.')[1] ?? ''
  const json = decodeURIComponent(
    Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''),
  )
  const claims = JSON.parse(json) as Record<string, unknown>
  const role = single(claim(claims, names.role), (v) => v in ROLE_LABELS)
  const bureau = single(claim(claims, names.bureau))
  return {
    user: typeof claims.sub === 'string' ? claims.sub : '',
    role,
    role_label: ROLE_LABELS[role] ?? role,
    bureau,
    bureau_name: bureauName(bureau),
    department: single(claim(claims, names.department)),
    name: single(claim(claims, names.name)) || (typeof claims.preferred_username === 'string' ? claims.preferred_username : ''),
  }
}

async function loadConfig(): Promise<AuthConfig> {
  try {
    const response = await fetch('/auth-config.json', { cache: 'no-store' })
    if (!response.ok) return { mode: 'none', problem: `/auth-config.json: HTTP ${response.status}` }
    const config = (await response.json()) as AuthConfig
    if (config.mode === 'oidc' && (!config.issuer || !config.client_id)) {
      return { mode: 'none', problem: '/auth-config.json names no issuer or client_id' }
    }
    return config
  } catch (error) {
    return { mode: 'none', problem: `/auth-config.json: ${String(error)}` }
  }
}

/** Read the sign-in configuration; with an identity provider, set up oidc-client-ts and finish
 * a sign-in the provider has just sent the browser back from. Returns where to go next. */
export async function startAuth(bureauName: (code: string) => string): Promise<string | null> {
  session.config = await loadConfig()
  const config = session.config
  if (config.mode !== 'oidc') return null
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts')
  const origin = window.location.origin
  manager = new UserManager({
    authority: config.issuer,
    client_id: config.client_id,
    redirect_uri: `${origin}${CALLBACK}`,
    post_logout_redirect_uri: `${origin}/login`,
    response_type: 'code', // with PKCE (S256): oidc-client-ts always sends a code_challenge
    scope: config.scope || 'openid',
    // The provider's tokens stay in this tab only.
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
    // Before the access token expires, a new one by the refresh token (or, without one, a
    // sign-in in a hidden frame); when that fails, the next request's 401 signs in again.
    automaticSilentRenew: true,
    silent_redirect_uri: `${origin}${CALLBACK}`,
  })
  const adopt = (user: User): void => signIn(user.access_token, userFromToken(user.access_token, config.claims, bureauName))
  manager.events.addUserLoaded(adopt)
  manager.events.addAccessTokenExpired(() => forget())
  manager.events.addSilentRenewError(() => forget())

  if (window.location.pathname === CALLBACK) {
    if (window.parent !== window) {
      // A silent renewal's hidden frame: hand the answer to the page and stop.
      await manager.signinSilentCallback()
      return CALLBACK
    }
    try {
      const user = await manager.signinRedirectCallback()
      adopt(user)
      const state = user.state as { next?: string } | undefined
      return state?.next && state.next.startsWith('/') ? state.next : '/'
    } catch (error) {
      forget()
      const why = new URLSearchParams(window.location.search).get('error_description') ?? String(error)
      return `/login?problem=${encodeURIComponent(why)}`
    }
  }
  const user = await manager.getUser()
  if (user && !user.expired) adopt(user)
  else if (session.token) forget() // a token from an old sign-in this tab no longer backs
  return null
}

/** Off to the identity provider (PKCE), coming back to `next`. */
export async function signInWithProvider(next: string): Promise<void> {
  if (!manager) throw new Error('no identity provider configured')
  await manager.signinRedirect({ state: { next } })
}

/** A refused or expired token: sign in again, then come back here. */
export async function reauthenticate(next: string, toLogin: () => Promise<unknown>): Promise<void> {
  forget()
  if (manager) {
    await manager.removeUser()
    await signInWithProvider(next)
  } else {
    await toLogin()
  }
}
