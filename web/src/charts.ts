// ECharts, registered once with only what the workbench draws (tree-shaken), and the options
// every chart shares: no animation under test automation or for people who asked for less
// motion (screenshots then show the finished chart), ARIA descriptions on.
import { use } from 'echarts/core'
import { BarChart, LineChart } from 'echarts/charts'
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, AriaComponent, CanvasRenderer])

export const animation = !(navigator.webdriver || window.matchMedia('(prefers-reduced-motion: reduce)').matches)

export const base = { animation, aria: { enabled: true }, tooltip: { trigger: 'axis' } }

export const COLORS = ['#1e3a8a', '#0891b2', '#d97706', '#dc2626', '#7c3aed']
