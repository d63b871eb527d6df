// Files to and from intake beside the typed client: attachments go up as multipart forms, the
// receipt comes back as DOCX for a JSON body. The token and the 401 handling are the client's.
import { session, signOut } from '../auth'
import { router } from '../router'
import { problemMessage, type ApiProblem } from './errors'

function authHeaders(): Record<string, string> {
  return session.token ? { Authorization: `Bearer ${session.token}` } : {}
}

async function refused(response: Response): Promise<ApiProblem | null> {
  if (response.status === 401 && session.token) {
    await signOut()
    await router.push({ name: 'login', query: { next: router.currentRoute.value.fullPath } })
  }
  return (await response.json().catch(() => null)) as ApiProblem | null
}

export class FileProblem extends Error {
  constructor(
    message: string,
    readonly problem: ApiProblem | null,
  ) {
    super(message)
  }
}

/** POST a form (a file with its fields); the JSON answer, or a FileProblem with intake's words. */
export async function postForm<T>(path: string, form: FormData): Promise<T> {
  const response = await fetch(path, { method: 'POST', headers: authHeaders(), body: form })
  if (!response.ok) {
    const problem = await refused(response)
    throw new FileProblem(problemMessage(problem, response.status), problem)
  }
  return (await response.json()) as T
}

/** Fetch a file (with an optional JSON body) and hand it to the browser to save. */
export async function saveFile(path: string, filename: string, init: { method?: 'GET' | 'POST'; json?: unknown } = {}): Promise<void> {
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: { ...authHeaders(), ...(init.json === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  })
  if (!response.ok) {
    const problem = await refused(response)
    throw new FileProblem(problemMessage(problem, response.status), problem)
  }
  const url = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.click()
  URL.revokeObjectURL(url)
}
