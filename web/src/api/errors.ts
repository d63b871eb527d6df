// The services answer 422 with every wrong field named ({"field": "petitioners.0.phone", ...})
// and other refusals with {"error", "message"}, both in Chinese and English.
export interface FieldProblem {
  field: string
  message: string
}

export interface ApiProblem {
  error?: string
  message?: string
  fields?: FieldProblem[]
  detail?: unknown
}

/** Field path -> message, for el-form-item's `error`. */
export function fieldErrors(problem: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  const fields = (problem as ApiProblem | undefined)?.fields ?? []
  for (const f of fields) out[f.field] = out[f.field] ? `${out[f.field]}；${f.message}` : f.message
  return out
}

export function problemMessage(problem: unknown, status?: number): string {
  const p = problem as ApiProblem | undefined
  if (p?.message) return p.message
  if (status === 403) return '无权执行此操作 / not allowed for your role or bureau'
  if (status === 404) return '未找到 / not found'
  if (status === 502) return '服务暂不可用 / a service is unavailable'
  return `请求失败 / the request failed${status ? ` (${status})` : ''}`
}
