// One typed client per service, all on this origin: the gateway (or the deployment's reverse
// proxy) forwards /intake, /assignment and /reporting to the services' own paths.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths as IntakePaths } from './generated/intake'
import type { paths as AssignmentPaths } from './generated/assignment'
import type { paths as ReportingPaths } from './generated/reporting'
import { reauthenticate, session } from '../auth'
import { router } from '../router'
import { problemMessage } from './errors'

const bearer: Middleware = {
  onRequest({ request }) {
    if (session.token) request.headers.set('Authorization', `Bearer ${session.token}`)
    return request
  },
  onResponse({ request, response }) {
    // An expired or refused token: back to sign-in, then to where the user was. Only for the
    // token in use now: a request still in flight when the user signed out (or when the token
    // was renewed) must not send a signed-out user back to the identity provider.
    const current = session.token ? `Bearer ${session.token}` : null
    if (response.status === 401 && current !== null && request.headers.get('Authorization') === current) {
      const here = router.currentRoute.value.fullPath
      void reauthenticate(here, () => router.push({ name: 'login', query: { next: here } }))
    }
    return response
  },
}

function client<P extends {}>(prefix: string) {
  const c = createClient<P>({ baseUrl: `${window.location.origin}${prefix}` })
  c.use(bearer)
  return c
}

export const intake = client<IntakePaths>('/intake')
export const assignment = client<AssignmentPaths>('/assignment')
export const reporting = client<ReportingPaths>('/reporting')

/** A file from an API (an export, a written notice), fetched with the token and handed to the
 * browser to save. A refusal is thrown as an Error whose message is the API's, in plain Chinese. */
export async function download(path: string, filename: string, method: 'GET' | 'POST' = 'GET'): Promise<void> {
  const response = await fetch(path, {
    method,
    headers: session.token ? { Authorization: `Bearer ${session.token}` } : {},
  })
  if (response.status === 401 && session.token) {
    const here = router.currentRoute.value.fullPath
    await reauthenticate(here, () => router.push({ name: 'login', query: { next: here } }))
    return
  }
  if (!response.ok) {
    const problem: unknown = await response.json().catch(() => null)
    throw new Error(problemMessage(problem, response.status))
  }
  const url = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.click()
  URL.revokeObjectURL(url)
}
