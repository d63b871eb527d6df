import { createRouter, createWebHistory } from 'vue-router'
import { session } from './auth'

export const router = createRouter({
  // Real paths, not #fragments: the gateway (and the deployment's proxy) answer index.html for
  // any path that is not a file, so a deep link or a reload lands on the same screen.
  history: createWebHistory(),
  routes: [
    // The desk for the registrar, the to-do for everyone who handles cases.
    { path: '/', redirect: () => (session.user && session.user.role !== 'registrar' ? '/todo' : '/desk') },
    { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true, title: '登录 Sign in' } },
    { path: '/todo', name: 'todo', component: () => import('./views/TodoView.vue'), meta: { title: '我的待办 To-do' } },
    { path: '/desk', name: 'desk', component: () => import('./views/DeskView.vue'), meta: { title: '登记台 Registration desk' } },
    { path: '/cases', name: 'cases', component: () => import('./views/CasesView.vue'), meta: { title: '案件 Cases' } },
    { path: '/cases/:id', name: 'case', component: () => import('./views/CaseView.vue'), meta: { title: '案件卷宗 Case' } },
    { path: '/reception', name: 'reception', component: () => import('./views/ReceptionView.vue'), meta: { title: '接访日 Reception day' } },
    { path: '/ledger', name: 'ledger', component: () => import('./views/LedgerView.vue'), meta: { title: '台帐 Ledger' } },
    { path: '/weekly', name: 'weekly', component: () => import('./views/WeeklyView.vue'), meta: { title: '一周一通报 Weekly bulletin' } },
    { path: '/monthly', name: 'monthly', component: () => import('./views/MonthlyView.vue'), meta: { title: '一月一分析 Monthly analysis' } },
    { path: '/audit', name: 'audit', component: () => import('./views/AuditView.vue'), meta: { title: '审计回放 Audit' } },
    { path: '/dashboard', name: 'dashboard', component: () => import('./views/DashboardView.vue'), meta: { title: '领导驾驶舱 Dashboard' } },
    { path: '/:rest(.*)*', redirect: '/desk' },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { name: 'login', query: { next: to.fullPath } }
  return true
})

router.afterEach((to) => {
  document.title = `${(to.meta.title as string) ?? ''} · 信访工作台`
})
