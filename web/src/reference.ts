// Organisation data for the forms' choices (bureaus, categories, leaders), from the deployment's
// bureau configuration, served beside the workbench as /reference.json.
import { ref } from 'vue'

export interface CategoryNode {
  code: string
  name: string
  name_en: string
  children: CategoryNode[]
}
export interface Reference {
  city: { code: string; name: string }
  sub_bureaus: { code: string; name: string; name_en: string }[]
  departments: { code: string; name: string; name_en: string }[]
  // bureau: the city's code or a sub-bureau's (a sub-bureau's leaders own its cases, 包案)
  leaders: { id: string; name: string; title: string; bureau?: string }[]
  categories: CategoryNode[]
  collective_threshold: number
}

export const reference = ref<Reference | null>(null)

export async function loadReference(): Promise<Reference> {
  if (!reference.value) {
    const response = await fetch('/reference.json')
    reference.value = (await response.json()) as Reference
  }
  return reference.value
}

export function bureauName(code: string | null | undefined): string {
  if (!code) return ''
  const r = reference.value
  if (!r) return code
  if (r.city.code === code) return r.city.name
  return (
    r.sub_bureaus.find((s) => s.code === code)?.name ??
    r.departments.find((d) => d.code === code)?.name ??
    code
  )
}

export function categoryName(code: string | null | undefined): string {
  if (!code || !reference.value) return code ?? ''
  const walk = (nodes: CategoryNode[]): string | undefined => {
    for (const n of nodes) {
      if (n.code === code) return n.name
      const found = walk(n.children)
      if (found) return found
    }
    return undefined
  }
  return walk(reference.value.categories) ?? code
}
