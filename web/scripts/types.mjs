// `make web-types`: the services' OpenAPI documents (web/openapi/*.json, written by
// `python -m devstack.openapi`) into TypeScript types (src/api/generated/*.ts), both committed so
// a change in an API shows up as a diff and the build fails where the workbench disagrees.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const cli = path.join(web, 'node_modules', 'openapi-typescript', 'bin', 'cli.js')
for (const service of ['intake', 'assignment', 'reporting']) {
  execFileSync(
    process.execPath,
    [cli, `openapi/${service}.json`, '-o', `src/api/generated/${service}.ts`],
    { cwd: web, stdio: 'inherit' },
  )
}
