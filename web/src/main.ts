import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import dayjs from 'dayjs'
import 'dayjs/locale/zh-cn'
import utc from 'dayjs/plugin/utc'
import timezone from 'dayjs/plugin/timezone'
import App from './App.vue'
import { router } from './router'
import './style.css'

dayjs.extend(utc)
dayjs.extend(timezone)
dayjs.locale('zh-cn')

createApp(App).use(router).use(ElementPlus, { locale: zhCn }).mount('#app')
