import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Where `npm run dev` finds the APIs: the devstack gateway (`make up`), which also serves
// /reference.json and the development sign-in.
const gateway = process.env.WORKBENCH_GATEWAY ?? 'http://127.0.0.1:8000'
const proxied = ['/intake', '/assignment', '/reporting', '/dev', '/reference.json']

export default defineConfig({
  plugins: [vue()],
  build: {
    // Government desktops run Chromium 110-based browsers (信创); Vite's default targets newer.
    target: ['chrome110'],
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: gateway, changeOrigin: false }])),
  },
})
