// Who is signed in. The token lives in sessionStorage: it ends with the browser tab, and a
// shared desk computer never keeps a police officer's token overnight.
import { reactive } from 'vue'

export interface SignedInUser {
  user: string
  role: string
  role_label: string
  bureau: string
  bureau_name: string
  department: string
  name: string
}

const TOKEN = 'workbench.token'
const USER = 'workbench.user'

function stored(): SignedInUser | null {
  const raw = sessionStorage.getItem(USER)
  return raw ? (JSON.parse(raw) as SignedInUser) : null
}

export const session = reactive<{ token: string | null; user: SignedInUser | null }>({
  token: sessionStorage.getItem(TOKEN),
  user: stored(),
})

export function signIn(token: string, user: SignedInUser): void {
  sessionStorage.setItem(TOKEN, token)
  sessionStorage.setItem(USER, JSON.stringify(user))
  session.token = token
  session.user = user
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN)
  sessionStorage.removeItem(USER)
  session.token = null
  session.user = null
}

export function hasRole(...roles: string[]): boolean {
  return session.user !== null && roles.includes(session.user.role)
}
