import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// Where `npm run dev` finds the APIs: the devstack gateway (`make up`), which also serves
// /reference.json, /auth-config.json and the development sign-in.
const gateway = process.env.WORKBENCH_GATEWAY ?? 'http://127.0.0.1:8000'
const proxied = ['/intake', '/assignment', '/reporting', '/dev', '/reference.json', '/auth-config.json']

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus on demand: each screen's chunk imports the components (and their CSS) it
    // uses, so the first screen does not load all of Element Plus (the main chunk was 1 MB).
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }),
  ],
  build: {
    // Government desktops run Chromium 110-based browsers (信创); Vite's default targets newer.
    target: ['chrome110'],
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: gateway, changeOrigin: false }])),
  },
})
