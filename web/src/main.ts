import { createApp } from 'vue'
// Element Plus's base variables first, so that style.css overrides them: the components and
// their CSS come with each screen's chunk (unplugin-vue-components, vite.config.ts), the zh-CN
// locale from <el-config-provider> in App.vue.
import 'element-plus/es/components/base/style/css'
import dayjs from 'dayjs'
import 'dayjs/locale/zh-cn'
import utc from 'dayjs/plugin/utc'
import timezone from 'dayjs/plugin/timezone'
import App from './App.vue'
import { startAuth } from './auth'
import { bureauName, loadReference } from './reference'
import './style.css'

dayjs.extend(utc)
dayjs.extend(timezone)
dayjs.locale('zh-cn')

// Sign-in first (a provider's answer on /auth/callback is finished before any screen shows),
// then the router, which reads the address it lands on.
async function start(): Promise<void> {
  await loadReference().catch(() => null) // bureau names for the header; screens retry
  const next = await startAuth(bureauName)
  if (next === '/auth/callback') return // a hidden frame of a silent renewal: no screen
  if (next) window.history.replaceState(null, '', next)
  const { router } = await import('./router')
  createApp(App).use(router).mount('#app')
}

void start()
